//! The admitted waiting list: add (a decision to admit, published for the RTT clock), offer a
//! to-come-in date, suspend, remove, list, the census. An entry names a patient the trust's
//! MPI has (ADR 21).
use super::{audited, listed, publish, Fail};
use crate::api::Authorized;
use crate::store::events;
use crate::store::waiting::{self, CensusRow, Entry, NewEntry};
use crate::store::StoreError;
use chrono::NaiveDate;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn add(auth: &Authorized, e: NewEntry) -> Result<Entry, ApiError> {
    let patient = e.patient.to_string();
    let p = publish(auth);
    audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            tessera_patients::require_known(txn, e.patient.as_uuid(), chrono::Utc::now())
                .await
                .map_err(|x| Fail::from(StoreError::from(x)))?;
            let entry = waiting::add(txn, &e).await.map_err(Fail::from)?;
            if entry.ppid.is_some() {
                events::decision_to_admit(txn, &p, &entry)
                    .await
                    .map_err(Fail::from)?;
            }
            Ok((entry, Ending::permit(Some(patient), 201, 1)))
        })
    })
    .await
}

/// Runs `change` on entry `id` under its patient's audit record.
async fn changing<F>(auth: &Authorized, change: F) -> Result<Entry, ApiError>
where
    F: for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
        ) -> futures::future::BoxFuture<'t, Result<Entry, StoreError>>
        + Send
        + 'static,
{
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let e = change(txn).await.map_err(Fail::from)?;
            let patient = Some(e.patient_id.clone());
            Ok((e, Ending::permit(patient, 200, 1)))
        })
    })
    .await
}

pub async fn read(auth: &Authorized, id: Uuid) -> Result<Entry, ApiError> {
    changing(auth, move |txn| Box::pin(waiting::entry(txn, id))).await
}

pub async fn offer(
    auth: &Authorized,
    id: Uuid,
    tci: NaiveDate,
    accepted: bool,
) -> Result<Entry, ApiError> {
    let by = auth.identity.user_id.clone();
    changing(auth, move |txn| {
        Box::pin(async move { waiting::offer(txn, id, tci, accepted, &by).await })
    })
    .await
}

pub async fn suspend(
    auth: &Authorized,
    id: Uuid,
    until: Option<NaiveDate>,
    reason: Option<String>,
) -> Result<Entry, ApiError> {
    changing(auth, move |txn| {
        Box::pin(waiting::suspend(txn, id, until, reason))
    })
    .await
}

pub async fn remove(auth: &Authorized, id: Uuid, reason: String) -> Result<Entry, ApiError> {
    changing(auth, move |txn| {
        Box::pin(async move { waiting::remove(txn, id, &reason).await })
    })
    .await
}

pub async fn list(
    auth: &Authorized,
    tf: Option<String>,
    limit: u64,
) -> Result<Vec<Entry>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(waiting::list(txn, tf, limit))
    })
    .await
}

pub async fn census(auth: &Authorized, on: NaiveDate) -> Result<Vec<CensusRow>, ApiError> {
    listed(auth, None, move |txn| Box::pin(waiting::census(txn, on))).await
}
