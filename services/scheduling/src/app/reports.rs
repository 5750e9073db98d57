//! Reports: utilisation per clinic or session, free capacity per treatment function. Reads
//! of the caller's trust, audited like any other.
use super::{audited, Fail};
use crate::api::Authorized;
use crate::store::{self, Capacity, Utilisation};
use chrono::NaiveDate;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn utilisation(
    auth: &Authorized,
    (from, to): (NaiveDate, NaiveDate),
    clinic: Option<Uuid>,
    per_clinic: bool,
) -> Result<Vec<Utilisation>, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let rows = store::utilisation(txn, from, to, clinic, per_clinic)
                .await
                .map_err(Fail::from)?;
            let n = i32::try_from(rows.len()).unwrap_or(i32::MAX);
            Ok((rows, Ending::permit(None, 200, n)))
        })
    })
    .await
}

pub async fn capacity(auth: &Authorized, weeks: u32) -> Result<Vec<Capacity>, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let rows = store::capacity(txn, weeks).await.map_err(Fail::from)?;
            let n = i32::try_from(rows.len()).unwrap_or(i32::MAX);
            Ok((rows, Ending::permit(None, 200, n)))
        })
    })
    .await
}
