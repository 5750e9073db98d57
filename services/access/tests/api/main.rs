//! The access service over HTTP, against real PostgreSQL, Redis and the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod audit_store;
mod break_glass;
mod consent;
mod helpers;
mod known_patients;
mod operations;
mod relationships;
