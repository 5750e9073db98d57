//! Reports and extracts answered as JSON (`{ "rows": [...] }`) or CSV (`format=csv`, or
//! `Accept: text/csv`), and the check that a report's query names only its own parameters.
use crate::problem::{ApiError, FieldError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;

fn invalid(f: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(f, code, message)])
}

/// CSV when `format=csv`, or when no `format` is given and the client accepts `text/csv`.
pub fn wants_csv(req: &HttpRequest, q: &HashMap<String, String>) -> Result<bool, ApiError> {
    match q.get("format").map(String::as_str) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(invalid("format", "code", "json or csv")),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
    }
}

/// Rows as JSON `{ "rows": [...] }`, or as a CSV attachment named `name`.
pub fn answer<T: Serialize>(rows: Vec<T>, csv: bool, name: &str) -> Result<HttpResponse, ApiError> {
    if !csv {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "rows": rows })));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.serialize(r).map_err(|e| ApiError::internal(&e))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::internal(&e.into_error()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(body))
}

/// A 422 naming the first query parameter that is not one of `allowed`.
pub fn only(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            k,
            "unknown",
            &format!("parameters: {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}
