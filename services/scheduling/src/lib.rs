//! Tessera's scheduling service: clinics, their session templates, the sessions and slots
//! generated from them, holds, and appointments — booked atomically (no slot over capacity,
//! no patient in two places at once), cancelled by the patient or the provider, and given
//! their attendance outcome (NHS_RULES §8).
//!
//! It owns, per trust: clinics (specialty, site, clinician or team, the services offered),
//! session templates with recurring patterns, sessions generated for a horizon in the
//! clinic's local time (Europe/London) skipping the trust's bank holidays, slots with a
//! capacity and an overbooking allowance, holds that lapse by themselves, appointments, and
//! the rebooking worklist.
//!
//! Layout (the service template, docs/architecture.md): `domain` (parsed types and rules, no
//! I/O) ← `store` (SQL per tenant schema) ← `app` (the use cases: one audited transaction
//! each) ← `api` (JSON over HTTP: parse and answer) ← `startup` (wiring).
pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
