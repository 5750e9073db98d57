//! Spells, their consultant episodes and bed stays: admitted, transferred, given a new
//! consultant, discharged. Every change to a patient's spell runs under the patient's lock
//! (one change at a time per patient in the trust) and every new stay in a bed under the
//! bed's row lock, checked against the bed's history from the time given — so no bed is
//! given to two patients for overlapping times, whatever the concurrency; the partial
//! unique index on open stays is the database's last word (ADR 32).
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{
    AdmissionMethod, AdmissionPurpose, AdmissionSource, BedId, DischargeDestination,
    DischargeMethod, IntendedManagement, SpellId, WardId,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use serde_json::json;
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

const SPELL_COLUMNS: &str = "id, spell_number, patient_id, status, ward_id, admission_method,
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

pub struct Admission {
    pub patient: tessera_patients::PatientId,
    /// The ward: the bed's, when a bed is given.
    pub ward: Option<WardId>,
    pub bed: Option<BedId>,
    pub method: AdmissionMethod,
    pub source: AdmissionSource,
    pub management: IntendedManagement,
    pub purpose: Option<AdmissionPurpose>,
    pub consultant: String,
    pub treatment_function: String,
    pub referral: Option<Uuid>,
    /// The pathway's PPID and its issuer.
    pub ppid: Option<(String, String)>,
    pub commissioner: Option<String>,
    /// When the patient was admitted (now, if not given; earlier after downtime).
    pub at: DateTime<Utc>,
    pub by: String,
    /// The request's `Idempotency-Key`.
    pub key: Option<String>,
    /// The admitted waiting list entry this admission closes: its RTT group and referral
    /// are the admission's unless given.
    pub waiting_list_entry: Option<Uuid>,
    /// The sending PAS's visit number (PV1-19), for a feed's admission.
    pub visit: Option<String>,
}

/// Where a transfer goes: a bed, or a ward without a bed yet.
pub enum Destination {
    Bed(BedId),
    Ward(WardId),
}

pub struct Change {
    pub at: DateTime<Utc>,
    pub by: String,
}

pub struct Discharge {
    pub method: DischargeMethod,
    pub destination: DischargeDestination,
    /// Put the bed to cleaning (the trust's setting), rather than straight back to available.
    pub clean: bool,
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
async fn claim_bed(
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

async fn ward_exists(txn: &DatabaseTransaction, ward: WardId) -> Result<(), StoreError> {
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

async fn open_stay(
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

/// Admits; a retry under the same `Idempotency-Key` answers what the first admitted
/// (`true`: replayed) and changes nothing.
pub async fn admit(
    txn: &DatabaseTransaction,
    a: &Admission,
) -> Result<(SpellView, bool), StoreError> {
    let patient = a.patient.to_string();
    lock_patient(txn, &patient).await?;
    if let Some(key) = &a.key {
        let found = Spell::find_by_statement(stmt(
            &format!("SELECT {SPELL_COLUMNS} FROM spell WHERE idempotency_key = $1"),
            vec![key.clone().into()],
        ))
        .one(txn)
        .await?;
        match found {
            Some(s) if s.patient_id == patient => {
                return Ok((spell(txn, SpellId::from(s.id)).await?, true))
            }
            Some(_) => return Err(conflict(
                tessera_edge::codes::IDEMPOTENCY_MISMATCH,
                "this Idempotency-Key admitted another patient: use a new key for a new admission",
            )),
            None => {}
        }
    }
    if let Some(open) = txn
        .query_one(stmt(
            "SELECT id FROM spell WHERE patient_id = $1 AND status = 'admitted'",
            vec![patient.clone().into()],
        ))
        .await?
    {
        let id: Uuid = open.try_get("", "id")?;
        return Err(conflict(
            errors::ALREADY_ADMITTED,
            format!("the patient is in hospital already (spell {id})"),
        ));
    }
    if a.at > Utc::now() + Duration::minutes(5) {
        return Err(conflict(
            errors::OUT_OF_ORDER,
            format!("{} is in the future", a.at),
        ));
    }
    let ward = match (a.bed, a.ward) {
        (Some(bed), ward) => {
            let b = claim_bed(txn, bed, a.at).await?;
            if ward.is_some_and(|w| w.as_uuid() != b.ward_id) {
                return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                    "ward",
                    "mismatch",
                    "the bed is on another ward",
                )));
            }
            b.ward_id
        }
        (None, Some(w)) => {
            ward_exists(txn, w).await?;
            w.as_uuid()
        }
        (None, None) => {
            return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                "ward",
                "required",
                "a ward or a bed",
            )))
        }
    };
    let (mut referral, mut ppid, mut purpose) = (a.referral, a.ppid.clone(), a.purpose);
    if let Some(w) = a.waiting_list_entry {
        if !a.method.elective() {
            return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                "admission_method",
                "not-elective",
                "an admission from the waiting list is elective (11, 12 or 13)",
            )));
        }
        let e = super::waiting::entry(txn, w).await?;
        referral = referral.or(e.referral_id);
        if ppid.is_none() {
            ppid = e.ppid.zip(e.ppid_issuer);
            // A decision to admit is a decision to treat: admitted from the list, treated.
            purpose = purpose.or(ppid.as_ref().map(|_| AdmissionPurpose::Treatment));
        }
    }
    let id = SpellId::new().as_uuid();
    txn.execute(stmt(
        "INSERT INTO spell (id, patient_id, status, ward_id, admission_method, admission_source,
                            intended_management, admission_purpose, referral_id, ppid, ppid_issuer,
                            commissioner, admitted_at, idempotency_key, created_by, updated_at,
                            waiting_list_entry_id, visit_number)
         VALUES ($1, $2, 'admitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), $15, $16)",
        vec![
            id.into(),
            patient.clone().into(),
            ward.into(),
            a.method.as_str().into(),
            a.source.as_str().into(),
            a.management.as_str().into(),
            purpose.map(|p| p.name().to_string()).into(),
            referral.into(),
            ppid.as_ref().map(|p| p.0.clone()).into(),
            ppid.as_ref().map(|p| p.1.clone()).into(),
            a.commissioner.clone().into(),
            a.at.into(),
            a.key.clone().into(),
            a.by.clone().into(),
            a.waiting_list_entry.into(),
            a.visit.clone().into(),
        ],
    ))
    .await?;
    if let Some(w) = a.waiting_list_entry {
        super::waiting::admitted(txn, w, &patient, id).await?;
    }
    let episode = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO episode (id, spell_id, seq, consultant, treatment_function, started_at)
         VALUES ($1, $2, 1, $3, $4, $5)",
        vec![
            episode.into(),
            id.into(),
            a.consultant.clone().into(),
            a.treatment_function.clone().into(),
            a.at.into(),
        ],
    ))
    .await?;
    let stay = match a.bed {
        Some(bed) => Some(open_stay(txn, bed, id, a.at).await?),
        None => None,
    };
    record_action(
        txn,
        id,
        "admission",
        a.at,
        &a.by,
        json!({ "ward_id": ward, "stay_id": stay, "episode_id": episode }),
    )
    .await?;
    Ok((spell(txn, SpellId::from(id)).await?, false))
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

/// Ends the spell's open stay at `at`; returns it (and its bed), if there was one.
async fn end_stay(
    txn: &DatabaseTransaction,
    spell: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    let row = txn
        .query_one(stmt(
            "UPDATE bed_stay SET to_at = $2 WHERE spell_id = $1 AND to_at IS NULL AND cancelled_at IS NULL
             RETURNING id, bed_id",
            vec![spell.into(), at.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "id")?, r.try_get("", "bed_id")?)),
        None => None,
    })
}

/// Ends the spell's open episode at `at`; returns its id.
async fn end_episode(
    txn: &DatabaseTransaction,
    spell: Uuid,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    txn.query_one(stmt(
        "UPDATE episode SET ended_at = $2 WHERE spell_id = $1 AND ended_at IS NULL AND cancelled_at IS NULL
         RETURNING id",
        vec![spell.into(), at.into()],
    ))
    .await?
    .ok_or(StoreError::NotFound)?
    .try_get("", "id")
    .map_err(StoreError::from)
}

pub(super) async fn touch(txn: &DatabaseTransaction, spell: Uuid) -> Result<(), StoreError> {
    txn.execute(stmt(
        "UPDATE spell SET version = version + 1, updated_at = now() WHERE id = $1",
        vec![spell.into()],
    ))
    .await?;
    Ok(())
}

/// Moves the patient to `to` at `c.at`: the old bed is freed in the same transaction. A
/// transfer to the bed the patient is in already changes nothing (a client's resend).
pub async fn transfer(
    txn: &DatabaseTransaction,
    id: SpellId,
    to: Destination,
    c: &Change,
) -> Result<SpellView, StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let (ward, bed) = match to {
        Destination::Bed(bed) => {
            let current = txn
                .query_one(stmt(
                    "SELECT 1 AS one FROM bed_stay WHERE spell_id = $1 AND bed_id = $2
                        AND to_at IS NULL AND cancelled_at IS NULL",
                    vec![s.id.into(), bed.as_uuid().into()],
                ))
                .await?;
            if current.is_some() {
                // A resent transfer that took effect: the patient is there; nothing to do.
                return spell(txn, id).await;
            }
            (claim_bed(txn, bed, c.at).await?.ward_id, Some(bed))
        }
        Destination::Ward(w) => {
            ward_exists(txn, w).await?;
            (w.as_uuid(), None)
        }
    };
    let ended = end_stay(txn, s.id, c.at).await?;
    let stay = match bed {
        Some(b) => Some(open_stay(txn, b, s.id, c.at).await?),
        None => None,
    };
    txn.execute(stmt(
        "UPDATE spell SET ward_id = $2 WHERE id = $1",
        vec![s.id.into(), ward.into()],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "transfer",
        c.at,
        &c.by,
        json!({ "from_ward_id": s.ward_id, "to_ward_id": ward, "ended_stay_id": ended.map(|e| e.0),
                "stay_id": stay }),
    )
    .await?;
    spell(txn, id).await
}

/// A new responsible consultant from `c.at`: the open episode ends and the next begins at
/// the same instant. Returns the spell and the episode that ended (its activity is due).
pub async fn change_consultant(
    txn: &DatabaseTransaction,
    id: SpellId,
    consultant: &str,
    treatment_function: &str,
    c: &Change,
) -> Result<(SpellView, Uuid), StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let ended = end_episode(txn, s.id, c.at).await?;
    let episode = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO episode (id, spell_id, seq, consultant, treatment_function, started_at)
         VALUES ($1, $2, (SELECT max(seq) + 1 FROM episode WHERE spell_id = $2), $3, $4, $5)",
        vec![
            episode.into(),
            s.id.into(),
            consultant.into(),
            treatment_function.into(),
            c.at.into(),
        ],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "consultant",
        c.at,
        &c.by,
        json!({ "ended_episode_id": ended, "episode_id": episode }),
    )
    .await?;
    Ok((spell(txn, id).await?, ended))
}

/// Discharges at `c.at`: the last episode and the spell end, the bed is freed (to cleaning,
/// if the trust says so). Returns the spell and the episode that ended.
pub async fn discharge(
    txn: &DatabaseTransaction,
    id: SpellId,
    d: &Discharge,
    c: &Change,
) -> Result<(SpellView, Uuid), StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let ended = end_episode(txn, s.id, c.at).await?;
    let stay = end_stay(txn, s.id, c.at).await?;
    if let (Some((_, bed)), true) = (stay, d.clean) {
        txn.execute(stmt(
            "UPDATE bed SET state = 'cleaning' WHERE id = $1 AND state = 'available'",
            vec![bed.into()],
        ))
        .await?;
    }
    txn.execute(stmt(
        "UPDATE spell SET status = 'discharged', discharged_at = $2, discharge_method = $3,
                          discharge_destination = $4, on_leave_since = NULL
          WHERE id = $1",
        vec![
            s.id.into(),
            c.at.into(),
            d.method.as_str().into(),
            d.destination.as_str().into(),
        ],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "discharge",
        c.at,
        &c.by,
        json!({ "episode_id": ended, "stay_id": stay.map(|x| x.0), "bed_id": stay.map(|x| x.1),
                "on_leave_since": s.on_leave_since }),
    )
    .await?;
    Ok((spell(txn, id).await?, ended))
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
