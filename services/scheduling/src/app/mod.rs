//! The scheduling service's use cases: what each endpoint does, once — the handlers in
//! `api/` only parse and answer. Every use case runs in one tenant transaction and leaves
//! exactly one audit record (`tessera_edge::gate::audited`). By subject: [`clinics`] (clinics,
//! templates, sessions, bank holidays) and [`booking`] (availability, holds, appointments,
//! the rebooking worklist) and [`worklists`] (referrals ready to book, slot issues).
pub mod booking;
pub mod clinics;
pub mod reports;
pub mod worklists;

use crate::domain::DomainError;
use crate::store::StoreError;
use tessera_edge::problem::{ApiError, FieldError};

pub use tessera_edge::gate::{audited, listed, refuse, Fail, Work};

pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(tessera_edge::codes::NOT_FOUND, "no such record"),
        StoreError::Conflict(code, detail) => ApiError::new(code, detail),
        StoreError::Domain(d) => domain_error(d),
        StoreError::Patient(r) => r.into(),
        StoreError::Db(e) => ApiError::database(&e),
        other @ StoreError::Outbox(_) => ApiError::internal(&other),
    }
}

pub fn domain_error(e: DomainError) -> ApiError {
    match e {
        DomainError::Invalid {
            field,
            code,
            message,
        } => ApiError::validation(vec![FieldError::new(field, code, message)]),
    }
}

/// Where the use case's events go: the caller's trust, under the request's trace.
pub fn publish(auth: &crate::api::Authorized) -> crate::store::events::Publish {
    crate::store::events::Publish {
        tenant: auth.tenant.clone(),
        trace: Some(auth.trace.clone()),
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::from(store_error(e))
    }
}
