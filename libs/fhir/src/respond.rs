//! What a service's FHIR handlers answer with: a resource (`application/fhir+json`), an
//! `OperationOutcome` for a bad parameter or a missing resource, the search a request asked
//! (checked against what the endpoint supports), and one page of matches as a searchset.
use crate::Search;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use tessera_edge::codes::NOT_FOUND;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

/// A resource, 200.
pub fn ok(v: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(crate::FHIR_JSON).json(v)
}

/// A 422 `OperationOutcome` naming the parameter.
pub fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)]).with_flavour(Flavour::Fhir)
}

/// A 404 `OperationOutcome`: no such `kind` (in the caller's trust).
pub fn not_found(kind: &str) -> ApiError {
    ApiError::new(NOT_FOUND, format!("no such {kind}")).with_flavour(Flavour::Fhir)
}

/// The search `req` asks, with `Prefer: handling=lenient` honoured.
pub fn search(req: &HttpRequest, supported: &[&str]) -> Result<Search, ApiError> {
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    Search::parse(req.query_string(), prefer, supported)
}

/// One page of `found` as a searchset Bundle of `kind`, its total the whole of `found`.
pub fn page<T>(
    req: &HttpRequest,
    kind: &str,
    s: &Search,
    found: &[T],
    id: impl Fn(&T) -> String,
    to: impl Fn(&T) -> Value,
) -> HttpResponse {
    let base = crate::base_url(req, None);
    let entries = found
        .iter()
        .skip(s.offset)
        .take(s.count)
        .map(|x| crate::bundle::matched(&base, kind, &id(x), to(x)))
        .collect();
    ok(&crate::searchset(&base, kind, s, found.len(), entries))
}
