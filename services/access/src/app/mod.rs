//! The access service's use cases: each runs in one tenant transaction and leaves exactly one
//! audit record, whatever happens. Here: that audited transaction and the errors use cases
//! answer; relationships claimed by hand and break-glass in [`relationships`].
pub mod relationships;

use crate::api::Authorized;
use crate::store::StoreError;
use sea_orm::DatabaseTransaction;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, FieldError};
use tessera_patients::PatientId;

pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(tessera_edge::codes::NOT_FOUND, "no such record"),
        StoreError::Conflict(code, detail) => ApiError::new(code, detail),
        StoreError::Patient(r) => r.into(),
        StoreError::Db(e) => ApiError::database(&e),
        other => ApiError::internal(&other),
    }
}

pub fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

/// Runs `work` in the tenant's transaction with its audit record, commits, and wakes the
/// relay. On failure the work rolls back and the refusal is audited on its own.
pub async fn audited<T, F>(
    auth: &Authorized,
    patient_id: Option<PatientId>,
    work: F,
) -> Result<T, ApiError>
where
    F: for<'t> FnOnce(
        &'t DatabaseTransaction,
    ) -> futures::future::BoxFuture<'t, Result<T, StoreError>>,
{
    let txn = match auth.begin().await {
        Ok(t) => t,
        Err(e) => {
            auth.audit(Ending::from_error(patient_id.map(|p| p.to_string()), &e))
                .await?;
            return Err(e);
        }
    };
    match work(&txn).await {
        Ok(v) => {
            auth.audit_in(
                &txn,
                Ending::permit(patient_id.map(|p| p.to_string()), 200, 1),
            )
            .await?;
            txn.commit().await.map_err(|e| ApiError::database(&e))?;
            auth.state.gate.relay.notify_one();
            Ok(v)
        }
        Err(e) => {
            let e = store_error(e);
            let _ = txn.rollback().await;
            auth.audit(Ending::from_error(patient_id.map(|p| p.to_string()), &e))
                .await?;
            Err(e)
        }
    }
}

/// As [`audited`], for a write that refers to a patient: refused first, in the same
/// transaction, if the caller's trust does not have the patient (ADR 21).
pub async fn audited_for_patient<T, F>(
    auth: &Authorized,
    patient_id: PatientId,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: for<'t> FnOnce(
            &'t DatabaseTransaction,
        ) -> futures::future::BoxFuture<'t, Result<T, StoreError>>
        + Send
        + 'static,
{
    audited(auth, Some(patient_id), move |txn| {
        Box::pin(async move {
            tessera_patients::require_known(txn, patient_id.as_uuid(), chrono::Utc::now()).await?;
            work(txn).await
        })
    })
    .await
}

/// Audits a request refused before any work (bad input).
pub async fn refuse<T>(
    auth: &Authorized,
    patient_id: Option<PatientId>,
    e: ApiError,
) -> Result<T, ApiError> {
    auth.audit(Ending::from_error(patient_id.map(|p| p.to_string()), &e))
        .await?;
    Err(e)
}
