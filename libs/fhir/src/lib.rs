//! What every FHIR R4 endpoint of every service repeats, in one place (ADR 23):
//! - [`search`]: the query a search was asked, checked against what the endpoint supports —
//!   `_count` (0 for a count only), `_offset` paging, unknown parameters refused, or ignored
//!   under `Prefer: handling=lenient`;
//! - [`bundle`]: the `searchset` Bundle with absolute `fullUrl`s, `self`/`next`/`previous`
//!   links and the true `total`;
//! - [`date`]: date parameters with their prefixes (`eq`, `ge`, `le`, …) and partial dates;
//! - [`prune`]: no empty arrays, objects or strings in a resource (FHIR forbids them);
//! - [`version`]: `meta.versionId`/`lastUpdated`, the weak `ETag`, `If-Match`, and the
//!   `history` Bundle;
//! - [`capability`]: the `CapabilityStatement`, from what each service declares;
//! - [`refs`]: references, identifiers and `system|value` tokens;
//! - [`respond`]: a resource, a FHIR 404 or 422, a search checked, a page as a searchset;
//! - [`base_url`]: the absolute base a response's links are built on.
//!
//! `OperationOutcome` answers are `tessera_edge::problem::ApiError`'s FHIR flavour; the edge
//! answers FHIR 404s and unsupported `Accept` types (406) for every `/fhir` route.
pub mod bundle;
pub mod capability;
pub mod date;
pub mod prune;
pub mod refs;
pub mod respond;
pub mod search;
pub mod version;

pub use bundle::searchset;
pub use capability::{Capability, Resource};
pub use date::DateParam;
pub use prune::prune;
pub use search::{Search, MAX_OFFSET};

/// The FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The absolute base of this service's FHIR API as the caller reached it
/// (`https://host/fhir`): scheme and host from the request (honouring `Forwarded` and
/// `X-Forwarded-*` behind an ingress), or `configured` when set.
pub fn base_url(req: &actix_web::HttpRequest, configured: Option<&str>) -> String {
    if let Some(b) = configured.filter(|b| !b.is_empty()) {
        return b.trim_end_matches('/').to_string();
    }
    let info = req.connection_info();
    format!("{}://{}/fhir", info.scheme(), info.host())
}
