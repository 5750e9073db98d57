//! SQL per tenant schema. Every change others must know of enqueues its event in the same
//! transaction (outbox). Patient ids only: no demographics live here.
mod clock;
mod merges;
pub mod migration;
mod pathways;
mod referrals;
mod search;
mod transitions;
mod waiting;

pub use clock::{record_clock_event, ClockEventRow, NewClockEvent};
pub use merges::{follow_merge, merge_reviews, undo_merge, MergeReview};
pub use pathways::{pathway, pathway_id_by_ppid, pathways_of, PathwayRow, PathwayView, PeriodRow};
pub use referrals::{create_referral, referral, NewPathway, NewReferral, Referral};
pub use search::{search_referrals, ReferralSearch};
pub use transitions::{transition, transitions, Transition, TransitionRequest};
pub use waiting::{
    incomplete, incomplete_page, incomplete_start_counts, incomplete_started_on, incomplete_starts,
    StartCount, StartRow, WaitingFilter, WaitingRow,
};

use crate::domain::DomainError;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue, OutgoingEvent};
use tessera_tenancy::TenantId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("outbox: {0}")]
    Outbox(#[from] tessera_events::EventError),
    #[error("not found")]
    NotFound,
    #[error("{1}")]
    Conflict(tessera_edge::codes::ErrorCode, String),
    /// An export (CSV) could not be written.
    #[error("export: {0}")]
    Export(String),
    /// The patient referred to is not one of the trust's (`tessera_patients`).
    #[error(transparent)]
    Patient(#[from] tessera_patients::Refused),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) use tessera_tenancy::stmt;

/// CloudEvents types this service publishes.
pub mod types {
    pub const REFERRAL_RECEIVED: &str = "uk.nhs.tessera.referrals.ReferralReceived.v1";
    pub const REFERRAL_STATE_CHANGED: &str = "uk.nhs.tessera.referrals.ReferralStateChanged.v1";
    pub const REFERRAL_ACCEPTED: &str = "uk.nhs.tessera.referrals.ReferralAccepted.v1";
    pub const REFERRAL_CLOSED: &str = "uk.nhs.tessera.referrals.ReferralClosed.v1";
    pub const RTT_PATHWAY_CHANGED: &str = "uk.nhs.tessera.referrals.RttPathwayChanged.v1";
}

/// Enqueues an event on `tessera.<ods>.referrals.<stream>`, keyed by the patient id.
pub(crate) async fn publish(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    stream: &str,
    patient_id: &str,
    ce_type: &str,
    payload: Vec<u8>,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    enqueue(
        txn,
        OutgoingEvent {
            topic: tenant.topic("referrals", stream),
            key: patient_id.to_string(),
            ce_type: ce_type.to_string(),
            source: "/tessera/referrals".into(),
            subject: Some(patient_id.to_string()),
            payload,
            trace: trace.cloned(),
        },
    )
    .await?;
    Ok(())
}
