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
//! Layout: `domain` (parsed types, the lifecycle) ← `store` (SQL per tenant schema) ← `api`
//! (JSON and FHIR `ServiceRequest` over HTTP) and `consumers` (merges, clock events from
//! scheduling and PAS) ← `startup` (wiring).
pub mod api;
pub mod config;
mod consumers;
pub mod domain;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::Application;
