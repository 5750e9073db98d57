//! The regional record over HTTP with real PostgreSQL, Redis and the broker: the trusts'
//! events published as their services publish them, the summary read as a clinician reads it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod helpers;
mod identity;
mod summary;
