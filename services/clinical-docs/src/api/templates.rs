//! Document types, templates and assessments over JSON. A template saved under a code it
//! has makes the next version (a used version is never edited in place); an assessment is
//! answered and signed section by section, with `If-Match`.
use super::bodies::{
    parse_assessment, AssessmentBody, DocumentTypeBody, DocumentView, SectionBody, TemplateBody,
};
use super::{answer, if_match, parse_id, Caller};
use crate::app::templates::{self as app, SectionChange};
use crate::app::{domain_error, refuse};
use crate::domain::template::NewTemplate;
use crate::domain::{code, DocType};
use crate::store::templates::{DocumentType, Template};
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct TypeList {
    types: Vec<DocumentType>,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    /// The newest version of each.
    templates: Vec<Template>,
}

/// Sets up (or renames) one of the trust's document types, and whether it needs a
/// countersignature.
#[utoipa::path(
    tag = "templates",
    params(("code" = String, Path, description = "SNOMED CT concept id")),
    request_body = DocumentTypeBody,
    responses((status = 200, description = "The type", body = DocumentType))
)]
#[put("/document-types/{code}")]
pub async fn put_type(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<DocumentTypeBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let t = match DocType::parse(&path, &body.display) {
        Ok(t) => t,
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    Ok(HttpResponse::Ok().json(app::put_type(&auth, t, body.countersign).await?))
}

#[utoipa::path(tag = "templates", responses((status = 200, description = "The trust's document types", body = TypeList)))]
#[get("/document-types")]
pub async fn types(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    Ok(HttpResponse::Ok().json(TypeList {
        types: app::types(&auth).await?,
    }))
}

/// Saves the template as its code's next version (1 for a new code).
#[utoipa::path(
    tag = "templates",
    params(("code" = String, Path, description = "The template's code")),
    request_body = TemplateBody,
    responses((status = 201, description = "The new version", body = Template))
)]
#[post("/templates/{code}/versions")]
pub async fn save(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let parsed = DocType::parse(&b.doc_type.code, &b.doc_type.display)
        .and_then(|t| NewTemplate::parse(&path, t, b.definition));
    let t = match parsed {
        Ok(t) => t,
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    let saved = app::save(&auth, t).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/templates/{}?version={}", saved.code, saved.version),
        ))
        .json(saved))
}

#[utoipa::path(tag = "templates", responses((status = 200, description = "The newest version of each template", body = TemplateList)))]
#[get("/templates")]
pub async fn list(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    Ok(HttpResponse::Ok().json(TemplateList {
        templates: app::latest(&auth).await?,
    }))
}

#[utoipa::path(
    tag = "templates",
    params(
        ("code" = String, Path, description = "The template's code"),
        ("version" = Option<i32>, Query, description = "A version (the newest if absent)")
    ),
    responses((status = 200, description = "The template version", body = Template))
)]
#[get("/templates/{code}")]
pub async fn read(
    caller: Caller,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = code("code", &path).map_err(domain_error).and_then(|c| {
        let mut version = None;
        for (k, v) in q.iter() {
            match k.as_str() {
                "version" => {
                    version = Some(v.parse::<i32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        domain_error(crate::domain::DomainError::invalid(
                            "version",
                            "format",
                            "1 or more",
                        ))
                    })?)
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter {other}"
                    )))
                }
            }
        }
        Ok((c, version))
    });
    let (c, version) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::template(&auth, c, version).await?))
}

/// Starts an assessment with the template (its newest version unless one is named): a draft
/// holding the version it used, the answers so far and the score once it can be computed.
#[utoipa::path(
    tag = "assessments",
    request_body = AssessmentBody,
    responses((status = 201, description = "The assessment, a draft document", body = DocumentView))
)]
#[post("/assessments")]
pub async fn assess(
    caller: Caller,
    body: web::Json<AssessmentBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let a = match parse_assessment(body.into_inner()) {
        Ok(a) => a,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    let doc = app::assess(&auth, a).await?;
    let etag = tessera_fhir::version::etag(i64::from(doc.version));
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/documents/{}", doc.id)))
        .insert_header((header::ETAG, etag))
        .json(DocumentView::from(doc)))
}

async fn section(
    caller: Caller,
    req: HttpRequest,
    path: &(String, String),
    what: SectionChange,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = parse_id(&path.0).and_then(|id| {
        let key = code("section", &path.1).map_err(domain_error)?;
        Ok((id, if_match(&req)?, key))
    });
    let (id, v, key) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    answer(app::section(&auth, id, v, key, what).await?)
}

/// One section's answers, replacing what it had (refused once the section is signed).
#[utoipa::path(
    tag = "assessments",
    params(
        ("id" = uuid::Uuid, Path, description = "The assessment"),
        ("section" = String, Path, description = "The section's key"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    request_body = SectionBody,
    responses(
        (status = 200, description = "The new version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[put("/documents/{id}/sections/{section}")]
pub async fn answer_section(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<SectionBody>,
) -> Result<HttpResponse, ApiError> {
    section(
        caller,
        req,
        &path,
        SectionChange::Answer(body.into_inner().answers),
    )
    .await
}

/// Signs one section (every required field answered); when every required section is
/// signed, the assessment is final.
#[utoipa::path(
    tag = "assessments",
    params(
        ("id" = uuid::Uuid, Path, description = "The assessment"),
        ("section" = String, Path, description = "The section's key"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    responses(
        (status = 200, description = "The new version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/documents/{id}/sections/{section}/sign")]
pub async fn sign_section(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    section(caller, req, &path, SectionChange::Sign).await
}
