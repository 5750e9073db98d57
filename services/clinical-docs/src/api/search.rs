//! A patient's documents: by type, status, author, creation time and words in their text,
//! newest first, a page at a time, never listing one the caller may not see.
use super::Caller;
use crate::app::documents as app;
use crate::app::{domain_error, refuse};
use crate::domain::{DocType, DomainError, Status};
use crate::store::search::{Filter, Summary};
use actix_web::{get, web, HttpResponse};
use chrono::DateTime;
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    total: i64,
    documents: Vec<Summary>,
}

fn invalid(f: &str, code: &'static str, m: &str) -> ApiError {
    domain_error(DomainError::invalid(f, code, m))
}

/// A date (the trust's local day, Europe/London) or an instant, checked; the database
/// turns a date into its local midnight.
fn time(f: &str, v: &str) -> Result<String, ApiError> {
    let ok = DateTime::parse_from_rfc3339(v).is_ok()
        || (v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok());
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(
            f,
            "format",
            "a date (YYYY-MM-DD) or an RFC 3339 time",
        ))
    }
}

pub fn parse(q: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let mut f = Filter {
        limit: 50,
        ..Filter::default()
    };
    let mut patient = None;
    for (k, v) in q {
        match k.as_str() {
            "patient_id" => {
                patient = Some(super::bodies::patient(v).map_err(domain_error)?.to_string())
            }
            "type" => {
                f.type_code = Some(DocType::parse(v, v).map_err(domain_error)?.code.to_string())
            }
            "status" => {
                f.status = Some(Status::parse(v).map_err(domain_error)?.as_str().to_string())
            }
            "author" => f.author = Some(crate::domain::code("author", v).map_err(domain_error)?),
            "from" => f.from = Some(time("from", v)?),
            "to" => f.to = Some(time("to", v)?),
            "q" => f.words = Some(crate::domain::text("q", v, 200).map_err(domain_error)?),
            "limit" => {
                f.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| invalid("limit", "range", "1 to 500"))?
            }
            "offset" => {
                f.offset = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= 100_000)
                    .ok_or_else(|| invalid("offset", "range", "0 to 100000"))?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {other}"
                )))
            }
        }
    }
    f.patient_id = patient.ok_or_else(|| {
        invalid(
            "patient_id",
            "required",
            "the patient whose documents to list",
        )
    })?;
    Ok(f)
}

#[utoipa::path(
    tag = "documents",
    params(
        ("patient_id" = uuid::Uuid, Query, description = "The patient (required)"),
        ("type" = Option<String>, Query, description = "SNOMED CT document type"),
        ("status" = Option<String>, Query, description = "draft, final, amended, entered-in-error"),
        ("author" = Option<String>, Query, description = "The author's user id"),
        ("from" = Option<String>, Query, description = "Created at or after (date or RFC 3339)"),
        ("to" = Option<String>, Query, description = "Created before (date or RFC 3339)"),
        ("q" = Option<String>, Query, description = "Words in the title or text (web search syntax: quotes, or, -word)"),
        ("limit" = Option<u64>, Query, description = "1 to 500 (50)"),
        ("offset" = Option<u64>, Query, description = "0 to 100000")
    ),
    responses((status = 200, description = "The page, newest first, and the total", body = DocumentList))
)]
#[get("/documents")]
pub async fn search(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let f = match parse(&q) {
        Ok(f) => f,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (documents, total) = app::search(&auth, f).await?;
    Ok(HttpResponse::Ok().json(DocumentList { total, documents }))
}
