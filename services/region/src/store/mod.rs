//! SQL: each trust's projections in its own schema ([`projection`]), written by the consumers
//! and read by the summary ([`summary`]); the regional index in schema `region` ([`index`])
//! and the matcher's proposals ([`reviews`]).
pub mod index;
pub mod migration;
pub mod projection;
pub mod reviews;
pub mod summary;

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("not found")]
    NotFound,
    #[error("{1}")]
    Conflict(tessera_edge::codes::ErrorCode, String),
}

pub(crate) use tessera_tenancy::stmt;
