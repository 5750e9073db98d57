//! Templates as `Questionnaire`s: one resource per template code, each saved version a
//! `versionId` — read (the newest), vread, `_history`.
use super::{forms, pruned, FHIR};
use crate::api::Caller;
use crate::app::{refuse, templates};
use actix_web::{get, web, HttpRequest, HttpResponse};
use tessera_edge::problem::ApiError;
use tessera_fhir::respond::{not_found, ok};
use tessera_fhir::version::{history, Version};

async fn template_versions(
    caller: Caller,
    code: &str,
) -> Result<Vec<crate::store::templates::Template>, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let code = match crate::domain::code("id", code) {
        Ok(c) => c,
        Err(_) => return refuse(&auth, None, not_found("Questionnaire")).await,
    };
    let all = templates::versions(&auth, code)
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    if all.is_empty() {
        return Err(not_found("Questionnaire"));
    }
    Ok(all)
}

#[utoipa::path(tag = "fhir", params(("id" = String, Path, description = "The template's code")),
    responses((status = 200, description = "The template's newest version", content_type = "application/fhir+json", body = Object)))]
#[get("/fhir/Questionnaire/{id}")]
pub async fn read_questionnaire(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let all = template_versions(caller, &path).await?;
    let base = tessera_fhir::base_url(&req, None);
    all.last()
        .map(|t| pruned(forms::questionnaire(&base, t)))
        .ok_or_else(|| not_found("Questionnaire"))
}

#[utoipa::path(tag = "fhir", params(("id" = String, Path), ("vid" = String, Path)),
    responses((status = 200, description = "The template version", content_type = "application/fhir+json", body = Object)))]
#[get("/fhir/Questionnaire/{id}/_history/{vid}")]
pub async fn vread_questionnaire(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let all = template_versions(caller, &path.0).await?;
    let base = tessera_fhir::base_url(&req, None);
    all.iter()
        .find(|t| t.version.to_string() == path.1)
        .map(|t| pruned(forms::questionnaire(&base, t)))
        .ok_or_else(|| not_found("Questionnaire"))
}

#[utoipa::path(tag = "fhir", params(("id" = String, Path)),
    responses((status = 200, description = "A history Bundle, newest first", content_type = "application/fhir+json", body = Object)))]
#[get("/fhir/Questionnaire/{id}/_history")]
pub async fn questionnaire_history(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let all = template_versions(caller, &path).await?;
    let base = tessera_fhir::base_url(&req, None);
    let versions = all
        .iter()
        .rev()
        .map(|t| Version {
            version: i64::from(t.version),
            recorded: t.created_at,
            resource: forms::questionnaire(&base, t),
        })
        .collect();
    Ok(ok(&history(&base, "Questionnaire", &path, versions)))
}
