//! Tessera's master patient index: the one place a trust's patients are registered, found and
//! kept — with their NHS numbers, local hospital numbers and demographic history.
//!
//! Layout (the service template, docs/architecture.md): `domain` (types and rules, no I/O;
//! the matcher's view of a patient) ← `store` (SQL per tenant schema) and `events` (outbox
//! messages) ← `app` (the use cases, each one audited tenant transaction; the matching model
//! cache) ← `api` (JSON, FHIR, HL7 v2 over HTTP and MLLP) and `jobs` (HL7 ACK retention) ←
//! `startup` (wiring).
//! It must never return, log or publish one tenant's patient to another.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod events;
mod jobs;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
