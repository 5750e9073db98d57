//! SQL per tenant schema. Patient ids only: no demographics live here. Times are instants
//! (RFC 3339, UTC); the dates activity records carry are the trust's local dates
//! (Europe/London), as the CDS wants them.
pub mod activity;
mod admit;
pub mod adt;
pub mod attendances;
mod cancel;
pub mod events;
mod leave;
pub mod migration;
mod moves;
mod orders;
mod spells;
pub mod waiting;
mod wards;

pub use activity::{Activity, Coding, Reconciliation};
pub use admit::admit;
pub use cancel::{cancel_last, Undone};
pub use leave::leave;
pub use moves::{change_consultant, discharge, transfer};
pub use orders::{Admission, Change, Destination, Discharge};
pub use spells::{spell, spells, Action, Episode, Spell, SpellView, Stay};
pub use wards::{bed, board, create_ward, set_bed_state, ward, wards, BoardBed, Ward};

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

/// The trust's time zone: activity dates are local dates in it.
pub const ZONE: &str = "Europe/London";

pub(crate) fn conflict(
    code: tessera_edge::codes::ErrorCode,
    detail: impl Into<String>,
) -> StoreError {
    StoreError::Conflict(code, detail.into())
}
