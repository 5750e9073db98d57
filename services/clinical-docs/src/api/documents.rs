//! Documents over JSON: create a draft, read it as it stands (with its `ETag`) or any version
//! as it was (byte for byte), change it only with `If-Match` — edit, sign, countersign,
//! amend, mark entered in error — and search a patient's documents. The use cases are
//! `app::documents`'.
use super::bodies::{
    parse_document, parse_edit, DocumentBody, DocumentView, EditBody, ReasonBody, VersionView,
};
use super::{answer, if_match, parse_id, Caller};
use crate::app::documents as app;
use crate::app::{domain_error, refuse};
use crate::domain::Reason;
use crate::store::Change;
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::Serialize;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

/// Creates a draft (version 1), after the access decision on the patient. With an
/// `Idempotency-Key`, a retry gets the first draft again (201, `Idempotent-Replayed: true`).
#[utoipa::path(
    tag = "documents",
    params(("Idempotency-Key" = Option<String>, Header, description = "One per document: a retry answers the first")),
    request_body = DocumentBody,
    responses((status = 201, description = "The draft, with its ETag", body = DocumentView))
)]
#[post("/documents")]
pub async fn create(
    caller: Caller,
    req: HttpRequest,
    body: web::Json<DocumentBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let key = match tessera_edge::key_of(&req) {
        Ok(k) => k,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let mut d = match parse_document(body.into_inner()) {
        Ok(d) => d,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    // A retry with the same key is the same document: the database's unique source says so.
    d.source = key.map(|k| format!("request:{}:{k}", auth.idempotency_scope()));
    let (doc, created) = app::create(&auth, d).await?;
    let location = format!("/documents/{}", doc.id);
    let etag = tessera_fhir::version::etag(i64::from(doc.version));
    let mut r = HttpResponse::Created();
    r.insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag));
    if !created {
        r.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(r.json(DocumentView::from(doc)))
}

#[utoipa::path(
    tag = "documents",
    params(("id" = uuid::Uuid, Path, description = "The document")),
    responses((status = 200, description = "The document as it stands, with its ETag", body = DocumentView))
)]
#[get("/documents/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match parse_id(&path) {
        Ok(id) => id,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let doc = app::read(&auth, id).await?;
    let etag = tessera_fhir::version::etag(i64::from(doc.version));
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(DocumentView::from(doc)))
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    document_id: uuid::Uuid,
    /// Oldest first; each with who made it, why, and its content.
    versions: Vec<VersionView>,
}

#[utoipa::path(
    tag = "documents",
    params(("id" = uuid::Uuid, Path, description = "The document")),
    responses((status = 200, description = "Every version, oldest first", body = VersionList))
)]
#[get("/documents/{id}/versions")]
pub async fn versions(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match parse_id(&path) {
        Ok(id) => id,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (doc, all) = app::versions(&auth, id).await?;
    Ok(HttpResponse::Ok().json(VersionList {
        document_id: doc.id,
        versions: all.into_iter().map(VersionView::from).collect(),
    }))
}

fn version_path(path: &(String, String)) -> Result<(crate::domain::DocumentId, i32), ApiError> {
    let id = parse_id(&path.0)?;
    let n = path
        .1
        .parse::<i32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            domain_error(crate::domain::DomainError::invalid(
                "version",
                "format",
                "a version number, 1 or more",
            ))
        })?;
    Ok((id, n))
}

#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("version" = i32, Path, description = "The version, from 1")
    ),
    responses((status = 200, description = "The version as it was made", body = VersionView))
)]
#[get("/documents/{id}/versions/{version}")]
pub async fn version(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (id, n) = match version_path(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let v = app::version(&auth, id, n).await?;
    Ok(HttpResponse::Ok().json(VersionView::from(v)))
}

/// The version's content exactly as it was stored, with its content type and SHA-256.
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("version" = i32, Path, description = "The version, from 1")
    ),
    responses((status = 200, description = "The bytes, as stored", content_type = "application/octet-stream", body = Vec<u8>))
)]
#[get("/documents/{id}/versions/{version}/content")]
pub async fn content(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (id, n) = match version_path(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let v = app::version(&auth, id, n).await?;
    Ok(HttpResponse::Ok()
        .content_type(v.content_type.clone())
        .insert_header(("Digest", format!("sha-256={}", v.sha256)))
        .body(v.content))
}

/// A draft's new text (no reason), or a signed document's amendment (`reason` required).
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("If-Match" = String, Header, description = "The ETag read: changed only if still the newest")
    ),
    request_body = EditBody,
    responses(
        (status = 200, description = "The new version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[put("/documents/{id}")]
pub async fn edit(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = parse_id(&path)
        .and_then(|id| Ok((id, if_match(&req)?)))
        .and_then(|(id, v)| {
            let (title, new, reason) =
                parse_edit(body.into_inner()).map_err(ApiError::validation)?;
            let change = match reason {
                Some(reason) => Change::Amend {
                    title,
                    content: new,
                    reason,
                },
                None => Change::Edit {
                    title,
                    content: new,
                },
            };
            Ok((id, v, change))
        });
    let (id, v, change) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    answer(app::change(&auth, id, v, change).await?)
}

async fn act(
    caller: Caller,
    req: HttpRequest,
    path: &str,
    change: Result<Change, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = parse_id(path).and_then(|id| Ok((id, if_match(&req)?, change?)));
    let (id, v, change) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    answer(app::change(&auth, id, v, change).await?)
}

/// The author signs the document off: final, or awaiting its countersignature when its type
/// asks for one.
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    responses(
        (status = 200, description = "The signed version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/documents/{id}/sign")]
pub async fn sign(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(caller, req, &path, Ok(Change::Sign)).await
}

/// A clinician other than the author (the one named, if any) countersigns: final.
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    responses(
        (status = 200, description = "The countersigned, final version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/documents/{id}/countersign")]
pub async fn countersign(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(caller, req, &path, Ok(Change::Countersign)).await
}

/// Marks the document entered in error, with why: its content stays, flagged, for those
/// allowed to see it.
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("If-Match" = String, Header, description = "The ETag read")
    ),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The entered-in-error version", body = DocumentView),
        (status = 412, description = "Not the newest version: `current` is the document as it stands", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/documents/{id}/entered-in-error")]
pub async fn entered_in_error(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let change = Reason::parse(&body.reason)
        .map(|reason| Change::EnteredInError { reason })
        .map_err(domain_error);
    act(caller, req, &path, change).await
}

/// A final letter's version as rendered for sending (PDF); 404 for a version that is not a
/// final letter.
#[utoipa::path(
    tag = "documents",
    params(
        ("id" = uuid::Uuid, Path, description = "The document"),
        ("version" = i32, Path, description = "The version, from 1")
    ),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>))
)]
#[get("/documents/{id}/versions/{version}/pdf")]
pub async fn pdf(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (id, n) = match version_path(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let bytes = app::pdf(&auth, id, n).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(bytes))
}
