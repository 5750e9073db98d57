//! The scheduling service over HTTP, against real PostgreSQL, Redis and the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod booking;
mod crash;
mod events;
mod fhir;
mod helpers;
mod merges;
mod race;
mod reports;
mod sessions;
mod worklists;
