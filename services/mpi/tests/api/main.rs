//! The MPI over HTTP against real PostgreSQL, Redis and the broker. One binary, many modules:
//! each test spawns its own app with its own fresh tenants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod auth;
mod broker_outage;
mod events;
mod fhir;
mod fhir_search;
mod helpers;
mod hl7;
mod idempotency;
mod isolation;
mod matching;
mod merges;
mod onboarding;
mod patients;
mod restricted;
mod validation;
