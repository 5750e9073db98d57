//! Guards at the edge of every service, backed by Redis so they hold across replicas:
//! - [`RateLimiter`]: a budget of requests per second per tenant, so one noisy trust cannot
//!   starve the others;
//! - [`Idempotency`]: a retried POST with the same `Idempotency-Key` gets the first response
//!   again instead of doing the work twice.

mod idempotency;
mod rate_limit;

pub use idempotency::{Begin, Idempotency, IdempotencyError, StoredResponse};
pub use rate_limit::{RateLimitConfig, RateLimiter, Throttled};
