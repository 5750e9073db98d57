//! Access control's decision core, with no I/O (ADR 24): who the caller is ([`Identity`],
//! their selected role's [`Activity`] codes), the access decision ([`decision`]: activity →
//! trust consent → relationship → seal, with break-glass) and the contact-group verdict
//! ([`contact`]: the S-flag and the decision together), over plain data ([`view`]).
//! `tessera-access` adds the adapters — JWKS, the revocation list, the projection — and
//! re-exports this crate, so services name `tessera_access::decision` as before.
//!
//! It must never take the tenant from anything but the verified selected role.
mod activity;
pub mod contact;
pub mod decision;
mod identity;
pub mod view;

pub use activity::{expand_activities, Activity};
pub use identity::{Identity, RoleClaim, SelectedRole, TokenClaims};
