//! SQL per tenant schema. Patient ids only: no demographics live here. Times are stored as
//! instants and shown in the clinic's local time (Europe/London) with its offset of the day,
//! `+00:00` in winter and `+01:00` in summer, as UK interfaces expect.
mod appointments;
mod clinics;
mod closing;
pub mod events;
mod merges;
pub mod migration;
mod ready;
mod reports;
mod search;
mod sessions;
mod slots;

pub use appointments::{appointment, book, Appointment, Booking, NewBooking};
pub use clinics::{clinics, create_clinic, create_template, set_bank_holiday, Clinic, Template};
pub use closing::{cancel, cancel_session, rebook_worklist, record_outcome, RebookItem};
pub use merges::{merge_reviews, review_clashes, MergeReview, MERGE_TABLES};
pub use ready::{
    ready_to_book, referral_seen, slot_issues, ReadyFilter, ReadyItem, Received, ReferralSeen,
};
pub use reports::{capacity, utilisation, Capacity, Utilisation};
pub use search::{search_appointments, AppointmentSearch};
pub use sessions::{generate, Generated};
pub use slots::{availability, hold, slot, Availability, Hold, Slot};

use crate::domain::DomainError;
use sea_orm::DbErr;

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
    /// The patient named is not one of the trust's (`tessera_patients`).
    #[error(transparent)]
    Patient(#[from] tessera_patients::Refused),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

pub(crate) use tessera_tenancy::stmt;

/// The clinics' time zone: sessions are generated and shown in it.
pub const ZONE: &str = "Europe/London";

/// SQL for `col` (a `timestamptz`) as local ISO 8601 with the day's offset.
pub(crate) fn local(col: &str) -> String {
    format!(
        "to_char({col} AT TIME ZONE '{ZONE}', 'YYYY-MM-DD\"T\"HH24:MI:SS') || \
         CASE WHEN ({col} AT TIME ZONE '{ZONE}') - ({col} AT TIME ZONE 'UTC') = interval '1 hour' \
         THEN '+01:00' ELSE '+00:00' END"
    )
}
