//! A use case's one audited transaction: the work runs in the tenant's transaction and
//! answers its value and how the request ended; the audit record is written in the same
//! transaction, or — when the work fails — on its own after the rollback. Services build
//! their use cases on it (ADR 27), so no request leaves without its record.
use super::{Authorized, Ending, HasGate};
use crate::problem::ApiError;
use sea_orm::DatabaseTransaction;

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

impl Fail {
    /// The refusal a denied access decision answers: 403 with the decision's reason as the
    /// code (`access.relationship`, `access.sealed`, ...), about `patient_id`.
    pub fn denied(
        patient_id: &str,
        outcome: &tessera_access::decision::Outcome,
        detail: &str,
    ) -> Self {
        Self {
            error: ApiError::new(crate::codes::of_refusal(outcome.reason), detail),
            patient_id: Some(patient_id.to_string()),
        }
    }
}

/// Runs `work` in the tenant's transaction (see the module's documentation).
pub async fn audited<S: HasGate, T, F>(
    auth: &Authorized<S>,
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
            auth.state.gate().relay.notify_one();
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

/// One audited read of a list (about `patient`, if one): its record counts the rows it
/// returned. `read`'s error is the service's store error, turned into the answer by its
/// `Into<Fail>`.
pub async fn listed<S: HasGate, T, E, F>(
    auth: &Authorized<S>,
    patient: Option<String>,
    read: F,
) -> Result<Vec<T>, ApiError>
where
    T: Send + 'static,
    E: Into<Fail>,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> futures::future::BoxFuture<'t, Result<Vec<T>, E>>
        + Send
        + 'static,
{
    audited(auth, patient.clone(), move |txn| {
        Box::pin(async move {
            let rows = read(txn).await.map_err(Into::into)?;
            let n = i32::try_from(rows.len()).unwrap_or(i32::MAX);
            Ok((rows, Ending::permit(patient, 200, n)))
        })
    })
    .await
}

/// Audits a request refused before any work (bad input).
pub async fn refuse<S: HasGate, T>(
    auth: &Authorized<S>,
    patient_id: Option<String>,
    e: ApiError,
) -> Result<T, ApiError> {
    let e = e.with_flavour(auth.flavour);
    auth.audit(Ending::from_error(patient_id, &e)).await?;
    Err(e)
}
