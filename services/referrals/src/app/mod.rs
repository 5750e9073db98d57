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

use crate::api::Authorized;
use crate::domain::DomainError;
use crate::store::StoreError;
use sea_orm::DatabaseTransaction;
use tessera_edge::gate::Ending;
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

pub type Work<'t, T> = futures::future::BoxFuture<'t, Result<(T, Ending), Fail>>;

/// Why work failed, and the patient it was about when the work found out.
pub struct Fail {
    pub error: ApiError,
    pub patient_id: Option<String>,
}

impl From<ApiError> for Fail {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            patient_id: None,
        }
    }
}

/// Runs `work` in the tenant's transaction; it answers the value and how the request ended
/// (its audit record, written in the same transaction), or the error. On failure the work
/// rolls back and the refusal is audited on its own.
pub async fn audited<T, F>(
    auth: &Authorized,
    patient_id: Option<String>,
    work: F,
) -> Result<T, ApiError>
where
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> Work<'t, T>,
{
    let txn = match auth.begin().await {
        Ok(t) => t,
        Err(e) => {
            auth.audit(Ending::from_error(patient_id, &e)).await?;
            return Err(e);
        }
    };
    match work(&txn).await {
        Ok((v, ending)) => {
            auth.audit_in(&txn, ending).await?;
            txn.commit()
                .await
                .map_err(|e| ApiError::database(&e).with_flavour(auth.flavour))?;
            auth.state.gate.relay.notify_one();
            Ok(v)
        }
        Err(f) => {
            let e = f.error.with_flavour(auth.flavour);
            let _ = txn.rollback().await;
            auth.audit(Ending::from_error(f.patient_id.or(patient_id), &e))
                .await?;
            Err(e)
        }
    }
}

/// Audits a request refused before any work (bad input).
pub async fn refuse<T>(
    auth: &Authorized,
    patient_id: Option<String>,
    e: ApiError,
) -> Result<T, ApiError> {
    let e = e.with_flavour(auth.flavour);
    auth.audit(Ending::from_error(patient_id, &e)).await?;
    Err(e)
}
