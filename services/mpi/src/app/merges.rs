//! Merge and unmerge (from the API, a confirmed review, HL7 A40) and the review decisions.
use super::*;

/// Merges `merged` into `survivor` (from the API, a confirmed review, or HL7 A40).
pub async fn merge(
    auth: &Authorized,
    survivor: PatientId,
    merged: PatientId,
) -> Result<(store::merges::Merge, Patient), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let (m, p) = audited_write(auth, Some(survivor.to_string()), move |txn| {
        Box::pin(async move {
            let (m, p) = merge_in(txn, &tenant, &trace, survivor, merged, None, &user).await?;
            Ok(((m, p), Ending::permit(Some(survivor.to_string()), 201, 1)))
        })
    })
    .await?;
    Ok((m, Access::none().shown(auth, p)))
}

/// The merge itself and its events, inside the caller's transaction.
pub(super) async fn merge_in(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    survivor: PatientId,
    merged: PatientId,
    review: Option<uuid::Uuid>,
    user: &str,
) -> Result<(store::merges::Merge, Patient), ApiError> {
    let (m, change, merged_nhs) = store::merges::merge(txn, survivor, merged, review, user)
        .await
        .map_err(store_error)?;
    let nhs = merged_nhs.as_ref().map(|n| n.as_str());
    tessera_events::enqueue(
        txn,
        events::merged(tenant, &m, &change.survivor, nhs, trace),
    )
    .await
    .map_err(|e| ApiError::outbox(&e))?;
    survivor_updated(txn, tenant, trace, &change).await?;
    Ok((m, change.survivor))
}

/// PatientUpdated for a survivor a merge or an unmerge changed.
pub(super) async fn survivor_updated(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    change: &store::merges::SurvivorChange,
) -> Result<(), ApiError> {
    if change.changed.is_empty() {
        return Ok(());
    }
    let event = events::updated(tenant, &change.survivor, change.changed.clone(), trace);
    tessera_events::enqueue(txn, event)
        .await
        .map(|_| ())
        .map_err(|e| ApiError::outbox(&e))
}

/// Undoes a merge; returns the merge, the survivor and the restored record.
pub async fn unmerge(
    auth: &Authorized,
    merge_id: uuid::Uuid,
) -> Result<(store::merges::Merge, Patient, Patient), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let (m, s, r) = audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let (m, change, restored) = store::merges::unmerge(txn, merge_id, &user)
                .await
                .map_err(store_error)?;
            tessera_events::enqueue(
                txn,
                events::unmerged(&tenant, &m, &change.survivor, &restored, &trace),
            )
            .await
            .map_err(|e| ApiError::outbox(&e))?;
            survivor_updated(txn, &tenant, &trace, &change).await?;
            let survivor = change.survivor;
            let ending = Ending::permit(Some(restored.id.to_string()), 200, 1);
            Ok(((m, survivor, restored), ending))
        })
    })
    .await?;
    Ok((
        m,
        Access::none().shown(auth, s),
        Access::none().shown(auth, r),
    ))
}

pub async fn merges_of(
    auth: &Authorized,
    patient: PatientId,
) -> Result<Vec<store::merges::Merge>, ApiError> {
    audited_read(
        auth,
        Some(patient.to_string()),
        |m: &Vec<store::merges::Merge>| (None, i32::try_from(m.len()).unwrap_or(i32::MAX)),
        move |txn| Box::pin(async move { store::merges::for_patient(txn, patient).await }),
    )
    .await
}

pub async fn reviews(
    auth: &Authorized,
    status: String,
    limit: u64,
) -> Result<Vec<store::reviews::Review>, ApiError> {
    audited_read(
        auth,
        None,
        |r: &Vec<store::reviews::Review>| (None, i32::try_from(r.len()).unwrap_or(i32::MAX)),
        move |txn| Box::pin(async move { store::reviews::list(txn, &status, limit).await }),
    )
    .await
}

/// A person's decision on a queued pair: confirm merges them (into `survivor`, or the older
/// record), reject remembers the pair so it is never offered again.
pub async fn decide_review(
    auth: &Authorized,
    review: uuid::Uuid,
    confirm: bool,
    survivor: Option<PatientId>,
    reason: Option<String>,
) -> Result<(store::reviews::Review, Option<store::merges::Merge>), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let item = store::reviews::get_for_update(txn, review)
                .await
                .map_err(store_error)?
                .ok_or_else(ApiError::not_found)?;
            if item.status != "open" {
                return Err(ApiError::new(
                    crate::api::errors::REVIEW_DECIDED,
                    format!("this pair was already {}", item.status),
                ));
            }
            let low = PatientId::from_uuid(item.patient_low);
            let high = PatientId::from_uuid(item.patient_high);
            if !confirm {
                let r = store::reviews::decide(txn, review, "rejected", &user, reason, None)
                    .await
                    .map_err(store_error)?;
                let ending = Ending::permit(Some(low.to_string()), 200, 1);
                return Ok(((r, None), ending));
            }
            // Ids are time-ordered (UUIDv7): the lower one was registered first.
            let (keep, gone) = match survivor {
                None => (low, high),
                Some(s) if s == low => (low, high),
                Some(s) if s == high => (high, low),
                Some(_) => {
                    return Err(crate::api::problem::validation(vec![
                        crate::domain::FieldError {
                            field: "survivor".into(),
                            code: "not-in-pair".into(),
                            message: "the survivor must be one of the pair".into(),
                        },
                    ]))
                }
            };
            let (m, _) = merge_in(txn, &tenant, &trace, keep, gone, Some(review), &user).await?;
            let r = store::reviews::decide(txn, review, "confirmed", &user, reason, Some(m.id))
                .await
                .map_err(store_error)?;
            let ending = Ending::permit(Some(keep.to_string()), 200, 1);
            Ok(((r, Some(m)), ending))
        })
    })
    .await
}
