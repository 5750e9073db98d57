//! What the regional record consumes, from every trust it serves: the MPI's patients (the
//! trust's projection of who they are, the regional index, the matcher's proposals, merges —
//! [`patients`]) and the trust's care — referrals and RTT clocks, appointments, admissions and
//! documents ([`care`]) — besides the access projection and the trust's known patients.
mod care;
mod patients;

use std::sync::Arc;
use tessera_events::{ConsumerSpec, Handler, HandlerError};

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
    matching: &crate::config::MatchingConfig,
) -> Vec<(&'static str, ConsumerSpec, Arc<dyn Handler>)> {
    let spec = |purpose: &str, service: &str, stream: &str| ConsumerSpec {
        group: format!("{prefix}.{purpose}"),
        service: service.into(),
        stream: stream.into(),
        max_attempts: 10,
        only: only.clone(),
    };
    vec![
        (
            "regional-patients",
            spec("patients", "mpi", "patient"),
            Arc::new(patients::Patients {
                matching: matching.clone(),
                model: tessera_matching::Model::default(),
                served: only.clone(),
            }),
        ),
        (
            "regional-referrals",
            spec("referrals", "referrals", "referral"),
            Arc::new(care::Care("referral")),
        ),
        (
            "regional-pathways",
            spec("pathways", "referrals", "rtt"),
            Arc::new(care::Care("rtt")),
        ),
        (
            "regional-appointments",
            spec("appointments", "scheduling", "appointment"),
            Arc::new(care::Care("appointment")),
        ),
        (
            "regional-encounters",
            spec("encounters", "pas", "encounter"),
            Arc::new(care::Care("encounter")),
        ),
        (
            "regional-documents",
            spec("documents", "clinical-docs", "document"),
            Arc::new(care::Care("document")),
        ),
        (
            "regional-document-content",
            spec("document-content", "clinical-docs", "shared"),
            Arc::new(care::Care("shared")),
        ),
    ]
}

/// A record id an event names, or a refusal naming which is wrong.
fn uuid(field: &str, s: &str) -> Result<uuid::Uuid, HandlerError> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| HandlerError::refused("event.invalid-id", format!("{field} is not a UUID")))
}

/// An RFC 3339 time an event carries (empty or unreadable: none).
fn time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A date an event carries (`YYYY-MM-DD`, or the date of an RFC 3339 time).
fn date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}
