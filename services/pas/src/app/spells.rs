//! Spells: admit, transfer, change consultant, discharge, cancel the last of these; read.
//! An admission names a patient the trust's MPI has (`tessera_patients`, ADR 21), checked
//! in its own transaction. Each change publishes its event, and each finished episode its
//! activity record, in the same transaction.
use super::{audited, listed, publish, Fail};
use crate::api::Authorized;
use crate::domain::SpellId;
use crate::store::events::{self, Publish};
use crate::store::{
    self, activity, Admission, Change, Destination, Discharge, Spell, SpellView, StoreError,
};
use sea_orm::DatabaseTransaction;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

/// The finished episode's activity record, and its event.
pub(crate) async fn episode_finished(
    txn: &DatabaseTransaction,
    p: &Publish,
    episode: Uuid,
) -> Result<(), StoreError> {
    if let Some(a) = activity::record_episode(txn, episode).await? {
        events::recorded(txn, p, &a).await?;
    }
    Ok(())
}

/// Admits, and tells the others (not on a replay). The use cases below, without their
/// audit record, are also what the ADT feed applies (`events::adt`).
pub(crate) async fn admit_in(
    txn: &DatabaseTransaction,
    p: &Publish,
    a: &Admission,
) -> Result<(SpellView, bool), StoreError> {
    let (s, replayed) = store::admit(txn, a).await?;
    if !replayed {
        events::admitted(txn, p, SpellId::from(s.spell.id)).await?;
    }
    Ok((s, replayed))
}

pub(crate) async fn transfer_in(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    to: Destination,
    c: &Change,
) -> Result<SpellView, StoreError> {
    let (v, moved) = store::transfer(txn, id, to, c).await?;
    if moved {
        events::transferred(txn, p, id, c.at).await?;
    }
    Ok(v)
}

pub(crate) async fn discharge_in(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    d: &Discharge,
    c: &Change,
) -> Result<SpellView, StoreError> {
    let (v, ended) = store::discharge(txn, id, d, c).await?;
    episode_finished(txn, p, ended).await?;
    events::discharged(txn, p, &v.spell).await?;
    Ok(v)
}

pub(crate) async fn leave_in(
    txn: &DatabaseTransaction,
    id: SpellId,
    going: bool,
    c: &Change,
) -> Result<SpellView, StoreError> {
    store::leave(txn, id, going, c).await
}

pub(crate) async fn cancel_in(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    expected: Option<&str>,
    by: &str,
    reason: &str,
) -> Result<SpellView, StoreError> {
    let undone = store::cancel_last(txn, id, expected, by, reason).await?;
    undo_followers(txn, p, id, &undone, reason).await?;
    store::spell(txn, id).await
}

/// Admits; a retry under the same `Idempotency-Key` answers what the first admitted
/// (`true`: replayed) and changes nothing.
pub async fn admit(auth: &Authorized, a: Admission) -> Result<(SpellView, bool), ApiError> {
    let patient = a.patient.to_string();
    let p = publish(auth);
    audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            tessera_patients::require_known(txn, a.patient.as_uuid(), chrono::Utc::now())
                .await
                .map_err(|e| Fail::from(StoreError::from(e)))?;
            let (s, replayed) = admit_in(txn, &p, &a).await.map_err(Fail::from)?;
            let mut ending = Ending::permit(Some(patient), 201, 1);
            if replayed {
                ending.reason = "idempotent-replay".into();
            }
            Ok(((s, replayed), ending))
        })
    })
    .await
}

/// Runs `change` on spell `id` under its patient's audit record.
async fn changing<F>(auth: &Authorized, change: F) -> Result<SpellView, ApiError>
where
    F: for<'t> FnOnce(
            &'t DatabaseTransaction,
            Publish,
        ) -> futures::future::BoxFuture<'t, Result<SpellView, StoreError>>
        + Send
        + 'static,
{
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let v = change(txn, p).await.map_err(Fail::from)?;
            let patient = Some(v.spell.patient_id.clone());
            Ok((v, Ending::permit(patient, 200, 1)))
        })
    })
    .await
}

pub async fn transfer(
    auth: &Authorized,
    id: SpellId,
    to: Destination,
    c: Change,
) -> Result<SpellView, ApiError> {
    changing(auth, move |txn, p| {
        Box::pin(async move { transfer_in(txn, &p, id, to, &c).await })
    })
    .await
}

pub async fn change_consultant(
    auth: &Authorized,
    id: SpellId,
    consultant: String,
    treatment_function: String,
    c: Change,
) -> Result<SpellView, ApiError> {
    changing(auth, move |txn, p| {
        Box::pin(async move {
            let (v, ended) =
                store::change_consultant(txn, id, &consultant, &treatment_function, &c).await?;
            episode_finished(txn, &p, ended).await?;
            events::episode_changed(txn, &p, id, ended, c.at).await?;
            Ok(v)
        })
    })
    .await
}

pub async fn discharge(
    auth: &Authorized,
    id: SpellId,
    d: Discharge,
    c: Change,
) -> Result<SpellView, ApiError> {
    changing(auth, move |txn, p| {
        Box::pin(async move { discharge_in(txn, &p, id, &d, &c).await })
    })
    .await
}

/// Starts (`going`) or ends a leave of absence: the spell, its episode and its bed stay.
pub async fn leave(
    auth: &Authorized,
    id: SpellId,
    going: bool,
    c: Change,
) -> Result<SpellView, ApiError> {
    changing(auth, move |txn, _| {
        Box::pin(async move { leave_in(txn, id, going, &c).await })
    })
    .await
}

/// Cancels the spell's last action (`expected`: which kind it must be).
pub async fn cancel(
    auth: &Authorized,
    id: SpellId,
    expected: Option<String>,
    reason: String,
) -> Result<SpellView, ApiError> {
    let by = auth.identity.user_id.clone();
    changing(auth, move |txn, p| {
        Box::pin(async move { cancel_in(txn, &p, id, expected.as_deref(), &by, &reason).await })
    })
    .await
}

/// What follows a cancellation: the reopened episode's record withdrawn, the event, and
/// for a cancelled discharge the admission again (the patient is in hospital).
async fn undo_followers(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    undone: &store::Undone,
    reason: &str,
) -> Result<(), StoreError> {
    if let Some(e) = undone.reopened_episode {
        let why = format!("{} cancelled: {reason}", undone.kind);
        if let Some(a) = activity::withdraw(txn, "apc-episode", e, &why).await? {
            events::withdrawn(txn, p, &a, &why).await?;
        }
    }
    events::cancelled(txn, p, &undone.spell, &undone.kind, reason).await?;
    if undone.kind == "discharge" {
        events::admitted(txn, p, id).await?;
    }
    Ok(())
}

pub async fn spell(auth: &Authorized, id: SpellId) -> Result<SpellView, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let v = store::spell(txn, id).await.map_err(Fail::from)?;
            let p = Some(v.spell.patient_id.clone());
            Ok((v, Ending::permit(p, 200, 1)))
        })
    })
    .await
}

pub async fn spells(
    auth: &Authorized,
    patient: Option<String>,
    status: Option<String>,
    limit: u64,
) -> Result<Vec<Spell>, ApiError> {
    listed(auth, patient.clone(), move |txn| {
        Box::pin(store::spells(txn, patient, status, limit))
    })
    .await
}

/// One page of spells (with their episodes and stays) by patient and status, and how many
/// match in all (up to `limit`): one audited read, as a FHIR search is.
pub async fn page_of_spells(
    auth: &Authorized,
    patient: Option<String>,
    status: Option<String>,
    limit: u64,
    (offset, count): (usize, usize),
) -> Result<(usize, Vec<SpellView>), ApiError> {
    audited(auth, patient.clone(), move |txn| {
        Box::pin(async move {
            let all = store::spells(txn, patient.clone(), status, limit)
                .await
                .map_err(Fail::from)?;
            let mut views = Vec::new();
            for s in all.iter().skip(offset).take(count) {
                views.push(
                    store::spell(txn, SpellId::from(s.id))
                        .await
                        .map_err(Fail::from)?,
                );
            }
            let n = i32::try_from(views.len()).unwrap_or(i32::MAX);
            Ok(((all.len(), views), Ending::permit(patient, 200, n)))
        })
    })
    .await
}

/// After the MPI's merges: what a person must decide (two open spells of one person).
pub async fn merge_reviews(
    auth: &Authorized,
    limit: u64,
) -> Result<Vec<tessera_patients::repoint::MergeReview>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(async move {
            tessera_patients::repoint::reviews(txn, limit)
                .await
                .map_err(StoreError::from)
        })
    })
    .await
}
