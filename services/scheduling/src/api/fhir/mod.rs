//! FHIR R4 UK Core over the same use cases as the JSON API: `Schedule` (a clinic; read,
//! search), `Slot` (read; search by schedule, start, status, service type) and `Appointment`
//! (read; search by patient, date, status; create to book; update to cancel or record the
//! outcome). `application/fhir+json`, `OperationOutcome` on errors (ADR 23). The handlers
//! are in [`schedules`] (Schedule, Slot) and [`appointments`]; what they share is here.
pub(super) mod appointments;
mod map;
pub(super) mod schedules;

use actix_web::{get, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate};
use map::{APPOINTMENT_PROFILE, SCHEDULE_PROFILE, SLOT_PROFILE};
use serde_json::Value;
use tessera_edge::codes::{NOT_FOUND, SEARCH_TOO_MANY};
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_fhir::{DateParam, Search};

pub(super) const FHIR: Flavour = Flavour::Fhir;
/// The most a `Slot` or `Appointment` search looks through (its total is exact up to here).
pub(super) const MAX_MATCHES: u64 = 1000;

pub(super) fn fhir(v: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(tessera_fhir::FHIR_JSON)
        .json(v)
}

pub(super) fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)]).with_flavour(FHIR)
}

pub(super) fn not_found(kind: &str) -> ApiError {
    ApiError::new(NOT_FOUND, format!("no such {kind}")).with_flavour(FHIR)
}

pub(super) fn too_many(kind: &str) -> ApiError {
    ApiError::new(
        SEARCH_TOO_MANY,
        format!("more than {MAX_MATCHES} {kind}s match: narrow the search"),
    )
    .with_flavour(FHIR)
}

pub(super) fn search(req: &HttpRequest, supported: &[&str]) -> Result<Search, ApiError> {
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    Search::parse(req.query_string(), prefer, supported)
}

/// One page of `found` as a searchset Bundle of `kind`.
pub(super) fn page<T>(
    req: &HttpRequest,
    kind: &str,
    s: &Search,
    found: &[T],
    id: impl Fn(&T) -> String,
    to: impl Fn(&T) -> Value,
) -> HttpResponse {
    let base = tessera_fhir::base_url(req, None);
    let entries = found
        .iter()
        .skip(s.offset)
        .take(s.count)
        .map(|x| tessera_fhir::bundle::matched(&base, kind, &id(x), to(x)))
        .collect();
    fhir(&tessera_fhir::searchset(
        &base,
        kind,
        s,
        found.len(),
        entries,
    ))
}

/// A date parameter's days as an inclusive local range, within `(from, to)`.
pub(super) fn narrow(
    v: &str,
    (from, to): (NaiveDate, NaiveDate),
    name: &str,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let d = DateParam::parse(v)
        .ok_or_else(|| invalid(name, "format", "a date, optionally prefixed (ge2026-12-01)"))?;
    let (lo, hi) = d
        .bounds()
        .ok_or_else(|| invalid(name, "prefix", "ne is not supported here"))?;
    let lo = lo.map_or(from, |(d, inc)| if inc { d } else { d + Duration::days(1) });
    let hi = hi.map_or(to, |(d, inc)| if inc { d } else { d - Duration::days(1) });
    Ok((lo.max(from), hi.min(to)))
}

#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera scheduling",
    published: "2026-12-06",
    resources: &[
        tessera_fhir::Resource {
            kind: "Schedule",
            profile: Some(SCHEDULE_PROFILE),
            interactions: &["read", "search-type"],
            search: &[("specialty", "token"), ("identifier", "token")],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Slot",
            profile: Some(SLOT_PROFILE),
            interactions: &["read", "search-type"],
            search: &[
                ("schedule", "reference"),
                ("start", "date"),
                ("status", "token"),
                ("service-type", "token"),
            ],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Appointment",
            profile: Some(APPOINTMENT_PROFILE),
            interactions: &["read", "search-type", "create", "update"],
            search: &[
                ("patient", "reference"),
                ("date", "date"),
                ("status", "token"),
            ],
            operations: &[],
        },
    ],
};
