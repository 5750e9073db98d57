//! The clinical documentation service over HTTP, against real PostgreSQL, Redis and the
//! broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod access;
mod assessments;
mod concurrency;
mod documents;
mod fhir;
mod helpers;
mod history;
mod letters;
mod merges;
