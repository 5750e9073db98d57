//! Tessera's master patient index: the one place a trust's patients are registered, found and
//! kept — with their NHS numbers, local hospital numbers and demographic history.
//!
//! Layout: `domain` (types and rules, no I/O) ← `store` (SQL per tenant schema) and `events`
//! (outbox messages) ← `app` (the use cases, each one audited tenant transaction) ← `api`
//! (JSON, FHIR and HL7 v2 adapters) ← `startup` (wiring).
//! It must never return, log or publish one tenant's patient to another.

pub mod api;
mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod matching;
mod mllp;
pub mod models;
mod retention;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
