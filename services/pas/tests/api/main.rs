//! The PAS service over HTTP, against real PostgreSQL, Redis and the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod activity;
mod adt;
mod beds;
mod cancel;
mod crash;
mod day;
mod events;
mod fhir;
mod helpers;
mod merges;
mod race;
mod spells;
mod waiting;
