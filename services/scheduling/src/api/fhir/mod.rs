//! FHIR R4 UK Core over the same use cases as the JSON API: `Schedule` (a clinic; read,
//! search), `Slot` (read; search by schedule, start, status, service type) and `Appointment`
//! (read; search by patient, date, status; create to book; update to cancel or record the
//! outcome). `application/fhir+json`, `OperationOutcome` on errors (ADR 23). The handlers
//! are in [`schedules`] (Schedule, Slot) and [`appointments`]; what they share is here.
pub(super) mod appointments;
mod map;
pub(super) mod schedules;

use actix_web::{get, HttpResponse};
use chrono::{Duration, NaiveDate};
use map::{APPOINTMENT_PROFILE, SCHEDULE_PROFILE, SLOT_PROFILE};
use tessera_edge::codes::SEARCH_TOO_MANY;
use tessera_edge::problem::{ApiError, Flavour};
use tessera_fhir::DateParam;

pub(super) const FHIR: Flavour = Flavour::Fhir;
/// The most a `Slot` or `Appointment` search looks through (its total is exact up to here).
pub(super) const MAX_MATCHES: u64 = 1000;

pub(super) use tessera_fhir::respond::{invalid, not_found, ok as fhir, page, search};

pub(super) fn too_many(kind: &str) -> ApiError {
    ApiError::new(
        SEARCH_TOO_MANY,
        format!("more than {MAX_MATCHES} {kind}s match: narrow the search"),
    )
    .with_flavour(FHIR)
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
