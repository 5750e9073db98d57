//! The summary as JSON.
use super::{patient_id, Caller};
use crate::app::{refuse, summary as app};
use crate::domain::Summary;
use actix_web::{get, web, HttpResponse};
use tessera_edge::problem::{ApiError, Flavour};

#[utoipa::path(
    tag = "summary",
    params(("id" = uuid::Uuid, Path, description = "The patient, by the viewer's own trust's id")),
    responses(
        (status = 200, description = "The regional summary: every trust's part the access rules allow, each line with its trust and freshness, and what is withheld", body = Summary),
        (status = 403, description = "No legitimate relationship with this patient in the viewer's trust (audited in every trust that holds the person)"),
        (status = 404, description = "No patient with this id in the viewer's trust")
    )
)]
#[get("/patients/{id}/summary")]
pub async fn summary(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let patient = match patient_id(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let s = app::summary(&auth, patient).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(s))
}
