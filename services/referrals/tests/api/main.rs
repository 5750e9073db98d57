//! The referrals service over HTTP, against real PostgreSQL, Redis and the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod clock_feed;
mod fhir;
mod helpers;
mod known_patients;
mod merges;
mod operations;
mod pathways;
mod referrals;
mod waiting;
