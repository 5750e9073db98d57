//! Tessera's patient administration service (PAS): wards and their beds, admissions that
//! open a hospital provider spell and its first consultant episode, transfers between beds,
//! changes of responsible consultant (one episode ends, the next begins: episodes of a spell
//! never overlap), discharges that end the spell and free the bed, and cancellations that
//! put each back exactly as it was (NHS_RULES §5–§6, docs/services/pas.md).
//!
//! Every finished consultant episode and every attended outpatient appointment (from
//! scheduling's outcomes) yields exactly one activity record — what commissioners are
//! billed from; coders add ICD-10 diagnoses and OPCS-4 procedures; the monthly extract and
//! the reconciliation report read them.
//!
//! Layout (the service template, docs/architecture.md): `domain` (parsed types and rules, no
//! I/O) ← `store` (SQL per tenant schema) ← `app` (the use cases: one audited transaction
//! each) ← `api` (JSON over HTTP: parse and answer) and `events` (what it consumes) ←
//! `startup` (wiring).
pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
