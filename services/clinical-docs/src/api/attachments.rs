//! Attachments over HTTP: the content is the request's body as it is, its type the
//! `Content-Type` header (checked against the bytes), its title a query parameter; added to
//! a draft with `If-Match`, read back byte for byte.
use super::{answer, if_match, parse_id, Caller};
use crate::api::errors;
use crate::app::documents as app;
use crate::app::{domain_error, refuse};
use crate::domain::attachment::{Attachment, Refusal};
use crate::store::attachments::Stored;
use crate::store::Applied;
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

/// The largest body this service reads: `attachments.max_bytes` is held under it.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub struct AttachmentList {
    attachments: Vec<Stored>,
}

fn parse(
    req: &HttpRequest,
    q: &HashMap<String, String>,
    body: web::Bytes,
    limit: usize,
) -> Result<Attachment, ApiError> {
    let mut title = None;
    for (k, v) in q {
        match k.as_str() {
            "title" => title = Some(v.clone()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {other}"
                )))
            }
        }
    }
    let title = title.unwrap_or_else(|| "Attachment".into());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Attachment::parse(&title, content_type, body.to_vec(), limit).map_err(|r| match r {
        Refusal::Type(why) => ApiError::new(errors::ATTACHMENT_TYPE, why),
        Refusal::TooLarge { limit } => ApiError::new(
            errors::ATTACHMENT_TOO_LARGE,
            format!("larger than the {limit} bytes allowed"),
        ),
        Refusal::Invalid(e) => domain_error(e),
    })
}

/// Attaches the body (PDF, JPEG, PNG or TIFF, up to `attachments.max_bytes`) to a draft.
#[utoipa::path(
    tag = "attachments",
    params(
        ("id" = uuid::Uuid, Path, description = "The document (a draft)"),
        ("title" = Option<String>, Query, description = "What it is"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    request_body(
        description = "The content: PDF, JPEG, PNG or TIFF, its type stated, or `application/octet-stream` to have it known by its signature",
        content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "image/jpeg"),
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/tiff"),
            (Vec<u8> = "application/octet-stream")
        )
    ),
    responses(
        (status = 201, description = "The attachment; the document's new version in ETag", body = Stored),
        (status = 413, description = "Over the size limit", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a type kept, or not what its type says", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/documents/{id}/attachments")]
pub async fn attach(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let limit = auth.state.config.attachments.max_bytes.min(MAX_BODY);
    let parsed =
        parse_id(&path).and_then(|id| Ok((id, if_match(&req)?, parse(&req, &q, body, limit)?)));
    let (id, v, a) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    match app::attach(&auth, id, v, a).await? {
        (Applied::Changed(d), Some(stored)) => Ok(HttpResponse::Created()
            .insert_header((
                header::ETAG,
                tessera_fhir::version::etag(i64::from(d.version)),
            ))
            .insert_header((
                header::LOCATION,
                format!("/documents/{}/attachments/{}", d.id, stored.id),
            ))
            .json(stored)),
        (applied, _) => answer(applied),
    }
}

#[utoipa::path(
    tag = "attachments",
    params(("id" = uuid::Uuid, Path, description = "The document")),
    responses((status = 200, description = "Its attachments, in the order added", body = AttachmentList))
)]
#[get("/documents/{id}/attachments")]
pub async fn list(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match parse_id(&path) {
        Ok(id) => id,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let attachments = app::attachments(&auth, id).await?;
    Ok(HttpResponse::Ok().json(AttachmentList { attachments }))
}

#[utoipa::path(
    tag = "attachments",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("attachment" = uuid::Uuid, Path, description = "The attachment")
    ),
    responses((status = 200, description = "The bytes as kept", content_type = "application/octet-stream", body = Vec<u8>))
)]
#[get("/documents/{id}/attachments/{attachment}")]
pub async fn read(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = parse_id(&path.0).and_then(|id| {
        let a = uuid::Uuid::parse_str(path.1.trim()).map_err(|_| {
            domain_error(crate::domain::DomainError::invalid(
                "attachment",
                "format",
                "an attachment id (UUID)",
            ))
        })?;
        Ok((id, a))
    });
    let (id, a) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (stored, bytes) = app::attachment(&auth, id, a).await?;
    Ok(HttpResponse::Ok()
        .content_type(stored.content_type)
        .insert_header(("Digest", format!("sha-256={}", stored.sha256)))
        .body(bytes))
}
