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

#[utoipa::path(
    tag = "summary",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient, by the viewer's own trust's id"),
        ("document" = uuid::Uuid, Path, description = "A document the summary lists as readable")
    ),
    responses(
        (status = 200, description = "The signed version's content, as its trust shared it (`X-Tessera-Trust`, `ETag` its version)", content_type = "application/octet-stream"),
        (status = 403, description = "Refused: no relationship, no consent for the viewer's trust, or sealed (audited in both trusts)"),
        (status = 404, description = "No such patient in the viewer's trust, or no signed document with this id in the patient's regional record")
    )
)]
#[get("/patients/{id}/documents/{document}/content")]
pub async fn content(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let (patient, document) = match read_ids(&path) {
        Ok(ids) => ids,
        Err(e) => return refuse(&auth, None, e).await,
    };
    match crate::app::content::content(&auth, patient, document).await? {
        crate::app::content::Answer::Shown(c) => Ok(shown(c)),
        crate::app::content::Answer::Refused(e) => Err(e),
    }
}

/// A patient id and a document id from a path.
pub(crate) fn read_ids(
    path: &(String, String),
) -> Result<(tessera_patients::PatientId, uuid::Uuid), ApiError> {
    let patient = patient_id(&path.0)?;
    let document = uuid::Uuid::parse_str(path.1.trim()).map_err(|_| {
        ApiError::validation(vec![tessera_edge::problem::FieldError::new(
            "document",
            "format",
            "a document id (UUID)",
        )])
    })?;
    Ok((patient, document))
}

/// The content as the answer: its own type, never sniffed, never cached.
pub(crate) fn shown(c: crate::app::content::Content) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(c.content_type)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Tessera-Trust", c.trust))
        .insert_header(("ETag", tessera_fhir::version::etag(i64::from(c.version))))
        .body(c.bytes)
}
