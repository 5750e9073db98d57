//! SQL per tenant schema. Patient ids only: no demographics live here. A document's versions
//! are rows never updated or deleted (a trigger refuses it); the document row says which is
//! the newest and moves only under its row lock, against the version the caller read.
pub mod attachments;
pub mod changes;
pub mod documents;
pub mod events;
pub mod letters;
pub mod migration;
pub mod search;
pub mod templates;

pub use changes::{apply, Applied, Change};
pub use documents::{content_json, create, document, version, versions, Author, Document, Version};

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

pub(crate) fn conflict(
    code: tessera_edge::codes::ErrorCode,
    detail: impl Into<String>,
) -> StoreError {
    StoreError::Conflict(code, detail.into())
}
