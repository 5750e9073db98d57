//! Tessera's referrals service: referrals and their e-RS lifecycle, RTT pathways and their
//! clock events, and the waiting lists the 18-week standard is measured on.
//!
//! It owns, per trust: referrals (e-RS with a UBRN, paper GP referrals, consultant and self
//! referrals) and every transition of their lifecycle; RTT pathways (PPID + issuer) with the
//! clock events recorded on them, from which `libs/rtt` derives the periods stored beside
//! them; and the waiting list over those periods. Every change goes out through the outbox
//! on `tessera.<ods>.referrals.referral` and `.rtt`; accepting a referral is what the access
//! service turns into a legitimate relationship for the receiving team.
//!
//! Layout (the service template, docs/architecture.md): `domain` (parsed types and rules, no
//! I/O) ← `store` (SQL per tenant schema) ← `app` (the use cases: one audited transaction
//! each, the access decision) ← `api` (JSON and FHIR `ServiceRequest` over HTTP: parse and
//! answer) and `events` (what it consumes: merges, clock events from scheduling and PAS) ←
//! `startup` (wiring).
pub mod api;
pub mod app;
pub mod config;
pub mod domain;
mod events;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
