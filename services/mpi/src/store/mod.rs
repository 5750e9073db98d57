//! The MPI's tables in each tenant schema, and the queries on them. Every function takes a
//! transaction already scoped to one tenant (`TenantDb::begin`), so none can reach another.

mod errors;
pub mod merges;
pub mod migration;
mod patients;
pub mod reviews;
mod search;
pub mod settings;

pub use errors::StoreError;
pub use patients::{
    find_by_local_number, find_by_nhs_number, get, insert, resolve, update, InsertOutcome,
};
pub use search::{history, match_candidates, search, HistoryEntry, SearchQuery};
