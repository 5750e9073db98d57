//! Access, first part: who is calling and what their selected role may do.
//! - [`JwtVerifier`] checks a bearer token against the trust IdP's JWKS: signature with an
//!   asymmetric key, algorithm (never `none`, never HMAC), issuer, audience, expiry.
//! - [`Identity`] is the caller: a user id and exactly one selected role (organisation ODS
//!   code, job role, activities with inclusions expanded). The tenant is that organisation.
//! - [`Revocations`] is the revoked-session list in Redis that every service checks.
//! - `dev` (feature `dev-idp`) is the local identity provider that stands in for smartcard
//!   login: for tests and local platforms only, never compiled into a production service.
//! - [`decision`] is the local access decision (activity → trust consent → relationship →
//!   seal, with break-glass), pure and explained.
//! - [`projection`] is each service's local copy of the access service's relationships,
//!   grants, teams, seals and consent, fed by its topics, read in one statement per request.
//!
//! It must never take the tenant from anything but the verified selected role.

pub use tessera_access_core::{contact, decision};
#[cfg(feature = "dev-idp")]
pub mod dev;
mod jwks;
pub mod projection;
mod revocation;

pub use jwks::{AuthConfig, AuthError, JwtVerifier};
pub use revocation::{RevocationError, Revocations};
pub use tessera_access_core::{
    expand_activities, Activity, Identity, RoleClaim, SelectedRole, TokenClaims,
};
