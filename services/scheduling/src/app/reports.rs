//! Reports: utilisation per clinic or session, free capacity per treatment function. Reads
//! of the caller's trust, audited like any other.
use super::listed;
use crate::api::Authorized;
use crate::store::{self, Capacity, Utilisation};
use chrono::NaiveDate;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn utilisation(
    auth: &Authorized,
    (from, to): (NaiveDate, NaiveDate),
    clinic: Option<Uuid>,
    per_clinic: bool,
) -> Result<Vec<Utilisation>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(store::utilisation(txn, from, to, clinic, per_clinic))
    })
    .await
}

pub async fn capacity(auth: &Authorized, weeks: u32) -> Result<Vec<Capacity>, ApiError> {
    listed(auth, None, move |txn| Box::pin(store::capacity(txn, weeks))).await
}
