//! Spells, their consultant episodes and bed stays — the types, the locks and checks every
//! change shares, and the reads (what a change asks for is in [`super::orders`]); admissions are in [`super::admit`], moves and ends in
//! [`super::moves`]. Every change to a patient's spell runs under the patient's lock
//! (one change at a time per patient in the trust) and every new stay in a bed under the
//! bed's row lock, checked against the bed's history from the time given — so no bed is
//! given to two patients for overlapping times, whatever the concurrency; the partial
//! unique index on open stays is the database's last word (ADR 32).
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{BedId, SpellId, WardId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Spell {
    pub id: Uuid,
    /// The hospital provider spell number, as the CDS carries it.
    pub spell_number: i64,
    pub patient_id: String,
    /// `admitted`, `discharged` or `cancelled`.
    pub status: String,
    pub ward_id: Uuid,
    pub admission_method: String,
    pub admission_source: String,
    pub intended_management: String,
    pub admission_purpose: Option<String>,
    pub referral_id: Option<Uuid>,
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    pub commissioner: Option<String>,
    pub admitted_at: DateTime<Utc>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub discharge_method: Option<String>,
    pub discharge_destination: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    /// On leave of absence since (28 days or less does not break the spell; the bed is kept).
    pub on_leave_since: Option<DateTime<Utc>>,
}

pub(super) const SPELL_COLUMNS: &str =
    "id, spell_number, patient_id, status, ward_id, admission_method,
    admission_source, intended_management, admission_purpose, referral_id, ppid, ppid_issuer,
    commissioner, admitted_at, discharged_at, discharge_method, discharge_destination, version,
    updated_at, on_leave_since";

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Episode {
    pub id: Uuid,
    pub seq: i32,
    pub consultant: String,
    pub treatment_function: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Stay {
    pub bed_id: Uuid,
    pub bed_code: String,
    pub ward_code: String,
    pub from_at: DateTime<Utc>,
    pub to_at: Option<DateTime<Utc>>,
}

/// One admission, transfer, consultant change or discharge, cancelled or not.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Action {
    pub seq: i32,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub by_user: String,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
}

/// A spell with its episodes, its stays in beds and its history (cancelled ones kept).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpellView {
    #[serde(flatten)]
    pub spell: Spell,
    pub episodes: Vec<Episode>,
    pub stays: Vec<Stay>,
    pub history: Vec<Action>,
}

/// A time to act at: not before the spell's last action, nor more than five minutes ahead
/// of the clock (clocks differ; the future does not happen here).
pub(super) fn in_order(at: DateTime<Utc>, last: DateTime<Utc>) -> Result<(), StoreError> {
    if at < last {
        return Err(conflict(
            errors::OUT_OF_ORDER,
            format!("{at} is before the spell's last action ({last})"),
        ));
    }
    if at > Utc::now() + Duration::minutes(5) {
        return Err(conflict(
            errors::OUT_OF_ORDER,
            format!("{at} is in the future"),
        ));
    }
    Ok(())
}

/// Takes the patient's lock: one change at a time to a patient's spells in this trust.
pub(super) async fn lock_patient(
    txn: &DatabaseTransaction,
    patient: &str,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':patient:' || $1, 0))",
        vec![patient.into()],
    ))
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
pub(super) struct LockedBed {
    pub ward_id: Uuid,
    pub state: String,
    pub code: String,
}

/// Takes the bed's row lock. An unknown bed is the caller's mistake (422).
pub(crate) async fn lock_bed(
    txn: &DatabaseTransaction,
    bed: BedId,
) -> Result<LockedBed, StoreError> {
    LockedBed::find_by_statement(stmt(
        "SELECT ward_id, state, code FROM bed WHERE id = $1 FOR UPDATE",
        vec![bed.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or_else(|| {
        StoreError::Domain(crate::domain::DomainError::invalid(
            "bed",
            "unknown",
            "no such bed in this trust",
        ))
    })
}

/// The bed is free from `at` on: no stay in it (other than `except`) runs past `at`.
pub(super) async fn free_from(
    txn: &DatabaseTransaction,
    bed: BedId,
    at: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<(), StoreError> {
    let taken = txn
        .query_one(stmt(
            "SELECT 1 AS one FROM bed_stay WHERE bed_id = $1 AND cancelled_at IS NULL
                AND coalesce(to_at, 'infinity') > $2 AND id IS DISTINCT FROM $3 LIMIT 1",
            vec![bed.as_uuid().into(), at.into(), except.into()],
        ))
        .await?;
    match taken {
        Some(_) => Err(conflict(
            errors::BED_OCCUPIED,
            "another patient is in the bed at or after that time",
        )),
        None => Ok(()),
    }
}

/// Locks `bed` for a new stay from `at`: it must be available and free from then.
pub(super) async fn claim_bed(
    txn: &DatabaseTransaction,
    bed: BedId,
    at: DateTime<Utc>,
) -> Result<LockedBed, StoreError> {
    let b = lock_bed(txn, bed).await?;
    if b.state != "available" {
        return Err(conflict(
            errors::BED_UNAVAILABLE,
            format!("bed {} is {}", b.code, b.state),
        ));
    }
    free_from(txn, bed, at, None).await?;
    Ok(b)
}

pub(super) async fn ward_exists(txn: &DatabaseTransaction, ward: WardId) -> Result<(), StoreError> {
    txn.query_one(stmt(
        "SELECT 1 AS one FROM ward WHERE id = $1",
        vec![ward.as_uuid().into()],
    ))
    .await?
    .map(|_| ())
    .ok_or_else(|| {
        StoreError::Domain(crate::domain::DomainError::invalid(
            "ward",
            "unknown",
            "no such ward in this trust",
        ))
    })
}

pub(super) async fn open_stay(
    txn: &DatabaseTransaction,
    bed: BedId,
    spell: Uuid,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO bed_stay (id, spell_id, bed_id, from_at) VALUES ($1, $2, $3, $4)",
        vec![id.into(), spell.into(), bed.as_uuid().into(), at.into()],
    ))
    .await?;
    Ok(id)
}

pub(super) async fn record_action(
    txn: &DatabaseTransaction,
    spell: Uuid,
    kind: &str,
    at: DateTime<Utc>,
    by: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO encounter_action (id, spell_id, seq, kind, at, by_user, detail, recorded_at)
         VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM encounter_action WHERE spell_id = $2),
                 $3, $4, $5, $6, now())",
        vec![
            Uuid::now_v7().into(),
            spell.into(),
            kind.into(),
            at.into(),
            by.into(),
            detail.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The spell, locked for a change: the patient's lock, then its row. It must be open.
pub(super) async fn lock_open(
    txn: &DatabaseTransaction,
    id: SpellId,
) -> Result<(Spell, DateTime<Utc>), StoreError> {
    let s = lock_spell(txn, id).await?;
    if s.status != "admitted" {
        return Err(conflict(
            errors::NOT_ADMITTED,
            format!("the spell is {}", s.status),
        ));
    }
    let last = last_action(txn, s.id).await?.unwrap_or(s.admitted_at);
    Ok((s, last))
}

pub(super) async fn lock_spell(
    txn: &DatabaseTransaction,
    id: SpellId,
) -> Result<Spell, StoreError> {
    let patient = txn
        .query_one(stmt(
            "SELECT patient_id FROM spell WHERE id = $1",
            vec![id.as_uuid().into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get::<String>("", "patient_id")?;
    lock_patient(txn, &patient).await?;
    Spell::find_by_statement(stmt(
        &format!("SELECT {SPELL_COLUMNS} FROM spell WHERE id = $1 FOR UPDATE"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

async fn last_action(
    txn: &DatabaseTransaction,
    spell: Uuid,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(txn
        .query_one(stmt(
            "SELECT max(at) AS at FROM encounter_action WHERE spell_id = $1 AND cancelled_at IS NULL",
            vec![spell.into()],
        ))
        .await?
        .and_then(|r| r.try_get::<Option<DateTime<Utc>>>("", "at").ok().flatten()))
}

pub(super) async fn touch(txn: &DatabaseTransaction, spell: Uuid) -> Result<(), StoreError> {
    txn.execute(stmt(
        "UPDATE spell SET version = version + 1, updated_at = now() WHERE id = $1",
        vec![spell.into()],
    ))
    .await?;
    Ok(())
}

pub async fn spell(txn: &DatabaseTransaction, id: SpellId) -> Result<SpellView, StoreError> {
    let s = Spell::find_by_statement(stmt(
        &format!("SELECT {SPELL_COLUMNS} FROM spell WHERE id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let u = vec![id.as_uuid().into()];
    let episodes = Episode::find_by_statement(stmt(
        "SELECT id, seq, consultant, treatment_function, started_at, ended_at FROM episode
          WHERE spell_id = $1 AND cancelled_at IS NULL ORDER BY seq",
        u.clone(),
    ))
    .all(txn)
    .await?;
    let stays = Stay::find_by_statement(stmt(
        "SELECT s.bed_id, b.code AS bed_code, w.code AS ward_code, s.from_at, s.to_at
           FROM bed_stay s JOIN bed b ON b.id = s.bed_id JOIN ward w ON w.id = b.ward_id
          WHERE s.spell_id = $1 AND s.cancelled_at IS NULL ORDER BY s.from_at, s.id",
        u.clone(),
    ))
    .all(txn)
    .await?;
    let history = Action::find_by_statement(stmt(
        "SELECT seq, kind, at, by_user, cancelled_at, cancel_reason FROM encounter_action
          WHERE spell_id = $1 ORDER BY seq",
        u,
    ))
    .all(txn)
    .await?;
    Ok(SpellView {
        spell: s,
        episodes,
        stays,
        history,
    })
}

/// Spells by patient and status, latest admission first.
pub async fn spells(
    txn: &DatabaseTransaction,
    patient: Option<String>,
    status: Option<String>,
    limit: u64,
) -> Result<Vec<Spell>, StoreError> {
    Ok(Spell::find_by_statement(stmt(
        &format!(
            "SELECT {SPELL_COLUMNS} FROM spell WHERE ($1::text IS NULL OR patient_id = $1)
                AND ($2::text IS NULL OR status = $2) ORDER BY admitted_at DESC, id LIMIT $3"
        ),
        vec![patient.into(), status.into(), (limit as i64).into()],
    ))
    .all(txn)
    .await?)
}
