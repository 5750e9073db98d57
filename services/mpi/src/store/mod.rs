//! The MPI's tables in each tenant schema, and the queries on them. Every function takes a
//! transaction already scoped to one tenant (`TenantDb::begin`), so none can reach another.

pub mod merges;
pub mod migration;
mod patients;
pub mod reviews;
pub mod settings;

pub use patients::{
    find_by_local_number, find_by_nhs_number, get, history, insert, match_candidates, resolve,
    search, update, HistoryEntry, InsertOutcome, SearchQuery, StoreError,
};
