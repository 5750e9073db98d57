//! Tessera's access service: who may see a patient's record, and who did.
//!
//! It owns, per trust: teams and their members; legitimate relationships (from other
//! services' events, and claimed by hand with an AccessReasonCode); break-glass grants and
//! the privacy officer's alert queue; seals and the patient's consent directives; and the
//! audit store, which appends every service's audit records to a per-trust hash chain.
//! Every change is published (outbox) on `tessera.<ods>.access.*`, from which every service
//! keeps its own projection (`libs/access::projection`) and decides locally.
//!
//! Layout (the service template, docs/architecture.md): `domain` (its own rules, no I/O; the
//! access decision is `libs/access-core`'s) ← `store` (SQL per tenant schema) ← `app` (use
//! cases: one audited transaction each) ← `api` (JSON and FHIR AuditEvent over HTTP) and
//! `events` (what it consumes: audit streams, care events, merges; what it publishes on its
//! own: the projection heartbeat and the audit chain heads) ← `startup` (wiring).
pub mod api;
pub mod app;
pub mod config;
pub mod domain;
mod events;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
