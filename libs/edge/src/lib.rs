//! The edge of every service's HTTP API:
//! - [`gate`]: who is calling (token, tenant, revoked session, rate limit, activity) and the
//!   audit record every request owes;
//! - [`input`]: every text a client sends (path, query, JSON strings) free of control
//!   characters and within length, before a handler sees it;
//! - [`negotiate`]: FHIR JSON only (406 otherwise), and a 404 `OperationOutcome` or
//!   problem for a route that does not exist;
//! - [`operations`] and [`openapi`]: each route's row (action, activity) in one table per
//!   service, used by the gate and shown in the API document generated from the code;
//! - [`problem`]: one error type, answered as RFC 9457 problem details or FHIR
//!   `OperationOutcome`.
//!
//! Guards backed by Redis so they hold across replicas:
//! - [`RateLimiter`]: a budget of requests per second per tenant, so one noisy trust cannot
//!   starve the others;
//! - [`Idempotency`]: a retried POST with the same `Idempotency-Key` gets the first response
//!   again instead of doing the work twice.

pub mod capture;
pub mod codes;
pub mod foundation;
pub mod gate;
mod idempotency;
pub mod input;
pub mod negotiate;
pub mod openapi;
pub mod operations;
pub mod problem;
mod rate_limit;
mod serve;
pub mod tabular;

pub use idempotency::{key_of, Begin, Idempotency, IdempotencyError, StoredResponse, HEADER};
pub use rate_limit::{RateLimitConfig, RateLimiter, Throttled};
/// Typed record ids (declared in `tessera_tenancy`, where every service and lib can reach it).
pub use tessera_tenancy::uuid_id;
