//! Tessera's access service: who may see a patient's record, and who did.
//!
//! It owns, per trust: teams and their members; legitimate relationships (from other
//! services' events, and claimed by hand with an AccessReasonCode); break-glass grants and
//! the privacy officer's alert queue; seals and the patient's consent directives; and the
//! audit store, which appends every service's audit records to a per-trust hash chain.
//! Every change is published (outbox) on `tessera.<ods>.access.*`, from which every service
//! keeps its own projection (`libs/access::projection`) and decides locally.
//!
//! Layout: `store` (SQL per tenant schema) ← `api` (JSON and FHIR AuditEvent over HTTP),
//! `consumers` (audit streams, care events) and `heartbeat` ← `startup` (wiring).
pub mod api;
pub mod config;
mod consumers;
mod heads;
mod heartbeat;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
