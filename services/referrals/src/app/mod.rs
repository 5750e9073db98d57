//! The referrals service's use cases: what each endpoint does, once, for the JSON API and
//! FHIR — the handlers in `api/` only parse and answer. Every use case runs in one tenant
//! transaction and leaves exactly one audit record, whatever happens. Here: that audited
//! transaction and the errors use cases answer; the access decision on a patient's referral
//! data in [`decide`]; the use cases by subject in [`referrals`], [`pathways`] and
//! [`waiting`].
pub mod decide;
pub mod pathways;
pub mod referrals;
pub mod waiting;

use crate::domain::DomainError;
use crate::store::StoreError;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

pub fn store_error(e: StoreError, flavour: Flavour) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(tessera_edge::codes::NOT_FOUND, "no such record"),
        StoreError::Conflict(code, detail) => ApiError::new(code, detail),
        StoreError::Domain(d) => domain_error(d),
        StoreError::Patient(r) => r.into(),
        StoreError::Db(e) => ApiError::database(&e),
        other => ApiError::internal(&other),
    }
    .with_flavour(flavour)
}

pub fn domain_error(e: DomainError) -> ApiError {
    match e {
        DomainError::Invalid {
            field,
            code,
            message,
        } => ApiError::validation(vec![FieldError::new(field, code, message)]),
        e @ DomainError::IllegalTransition { .. } => {
            ApiError::new(crate::api::errors::ILLEGAL_TRANSITION, e.to_string())
        }
    }
}

pub fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

pub use tessera_edge::gate::{audited, refuse, Fail, Work};
