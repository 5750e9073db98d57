//! Activity: read, coded, the monthly extract, the reconciliation report.
use super::{audited, listed, publish, Fail};
use crate::api::Authorized;
use crate::domain::ActivityId;
use crate::store::activity::{self, Activity, Coding, Reconciliation};
use crate::store::events;
use chrono::NaiveDate;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

pub async fn read(auth: &Authorized, id: ActivityId) -> Result<Activity, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let a = activity::activity(txn, id).await.map_err(Fail::from)?;
            let p = Some(a.patient_id.clone());
            Ok((a, Ending::permit(p, 200, 1)))
        })
    })
    .await
}

pub async fn code(auth: &Authorized, id: ActivityId, c: Coding) -> Result<Activity, ApiError> {
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let a = activity::code(txn, id, &c).await.map_err(Fail::from)?;
            events::coded(txn, &p, &a).await.map_err(Fail::from)?;
            let patient = Some(a.patient_id.clone());
            Ok((a, Ending::permit(patient, 200, 1)))
        })
    })
    .await
}

/// The live records ending in `[from, to)`: the extract for commissioners.
pub async fn extract(
    auth: &Authorized,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Activity>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(activity::ending_between(txn, from, to))
    })
    .await
}

pub async fn reconcile(
    auth: &Authorized,
    from: NaiveDate,
    to: NaiveDate,
    uncoded_days: i64,
) -> Result<Reconciliation, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let r = activity::reconcile(txn, from, to, uncoded_days)
                .await
                .map_err(Fail::from)?;
            Ok((r, Ending::permit(None, 200, 1)))
        })
    })
    .await
}
