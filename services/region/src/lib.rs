//! Tessera's regional care record: one patient's care across the region's trusts, at a
//! glance. Each trust's patients are known as one **regional person** when their verified NHS
//! numbers agree (or a reviewer confirms what the matcher proposed); the service keeps, in each
//! trust's own schema, a projection of that trust's referrals and RTT clocks, appointments,
//! admissions and documents fed by its topics, and answers a clinician's summary from those
//! projections — never by calling the trusts' services — under the access rules: the viewer's
//! legitimate relationship in their own trust, the patient's consent to share in the trust
//! whose data it is, seals always honoured. Every cross-trust read is audited in both trusts
//! (docs/services/region.md, ADR 35).
//!
//! Layout (the service template, docs/architecture.md): `domain` (summary types and RTT
//! weeks, no I/O) ← `store` (SQL: projections per trust schema, the regional index in schema
//! `region`) ← `app` (the use cases: decided and audited) ← `api` (JSON, FHIR and the page)
//! and `events` (what it consumes) ← `startup` (wiring).
pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
