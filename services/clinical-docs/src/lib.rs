//! Tessera's clinical documentation service: documents about a patient (letters, discharge
//! summaries, progress notes, assessments) whose every change is a new version — never
//! overwritten, never deleted, each retrievable byte for byte with who made it and why —
//! signed off by their author and countersigned where the type asks; templates, versioned,
//! and structured assessments made with them (NEWS2 scored as the RCP chart says); every
//! read and write under the access decision on the patient and the document's seal
//! (NHS_RULES §4, §7, §9; docs/services/clinical-docs.md).
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
