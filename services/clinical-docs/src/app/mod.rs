//! The clinical documentation service's use cases: what each endpoint does, once — the
//! handlers in `api/` only parse and answer. Every use case runs in one tenant transaction
//! and leaves exactly one audit record (`tessera_edge::gate::audited`), after the access
//! decision on the patient and on the document's seal ([`access`]). By subject:
//! [`documents`] (create, read, versions, changes, search) and [`templates`] (document
//! types, templates, assessments).
pub mod access;
pub mod documents;
pub mod templates;

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

/// Who makes a version: the caller's user, selected role and organisation.
pub fn author(auth: &crate::api::Authorized) -> crate::store::Author {
    crate::store::Author {
        user: auth.identity.user_id.clone(),
        role: auth.identity.role.job_role.clone(),
        org: auth.identity.role.organisation.to_string(),
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::from(store_error(e))
    }
}

/// A patient the trust does not have is told so (422, or 503 while one registered a moment
/// ago may be on its way), before any decision about them.
pub async fn known(
    txn: &sea_orm::DatabaseTransaction,
    patient: &tessera_patients::PatientId,
) -> Result<(), Fail> {
    tessera_patients::require_known(txn, patient.as_uuid(), chrono::Utc::now())
        .await
        .map_err(|e| Fail::from(StoreError::from(e)))
}
