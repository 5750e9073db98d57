//! Appointments: booked under two locks — the patient's (one booking conversation at a time
//! per patient in the trust) and then the slot's row — so neither a slot over capacity nor a
//! patient in two places at once can be committed, whatever the concurrency (ADR 30).
//! What happens to a booked appointment after is in [`super::closing`].
use super::slots::{held_by_others, lock};
use super::{local, stmt, StoreError};
use crate::api::errors;
use crate::domain::{AppointmentId, HoldId, SlotId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Appointment {
    pub id: Uuid,
    pub slot_id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: String,
    pub referral_id: Option<Uuid>,
    pub pathway_id: Option<Uuid>,
    pub start: String,
    pub end: String,
    /// `booked`, `cancelled`, `attended`, `not-seen`, `did-not-attend`.
    pub status: String,
    /// NHS Data Dictionary "Attended or did not attend": 0 while booked.
    pub attendance_code: i16,
    pub cancel_reason: Option<String>,
    /// Booked beyond the slot's capacity, within its overbooking allowance.
    pub overbooked: bool,
    /// The appointment this one replaced, when it was a reschedule.
    pub rescheduled_from: Option<Uuid>,
    pub booked_by: String,
    pub version: i64,
    /// The RTT pathway it serves, as the referral's pathway names it.
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    /// Clearly communicated to the patient (a DNA of an uncommunicated one cannot nullify).
    pub communicated: bool,
    pub updated_at: DateTime<Utc>,
}

pub(super) fn columns() -> String {
    format!(
        "id, slot_id, clinic_id, patient_id, referral_id, pathway_id, {} AS start, {} AS \"end\",
         status, attendance_code, cancel_reason, overbooked, rescheduled_from, booked_by, version,
         ppid, ppid_issuer, communicated, updated_at",
        local("starts_at"),
        local("ends_at")
    )
}

pub struct NewBooking {
    pub slot: SlotId,
    pub patient: tessera_patients::PatientId,
    pub referral: Option<Uuid>,
    pub pathway: Option<Uuid>,
    /// The pathway's PPID and its issuer (the clock-event contract's names for it).
    pub ppid: Option<(String, String)>,
    pub communicated: bool,
    /// The hold this booking conversation took, if any: its place is the booking's.
    pub hold: Option<HoldId>,
    /// Staff booking beyond capacity, within the slot's overbooking allowance.
    pub overbook: bool,
    pub by: String,
    /// The request's `Idempotency-Key`: a retry with it gets the appointment it booked.
    pub key: Option<String>,
}

/// What a booking did.
pub enum Booking {
    New(Appointment),
    /// The `Idempotency-Key` had booked this already: nothing changed.
    Replayed(Appointment),
}

/// A booking already made under `b.key`, if any: the same booking is a replay; another
/// booking under the same key is refused. Called under the patient's lock, so a retry
/// racing its first attempt waits for it.
async fn earlier(
    txn: &DatabaseTransaction,
    b: &NewBooking,
) -> Result<Option<Appointment>, StoreError> {
    let Some(key) = &b.key else { return Ok(None) };
    let found = Appointment::find_by_statement(stmt(
        &format!(
            "SELECT {} FROM appointment WHERE idempotency_key = $1",
            columns()
        ),
        vec![key.clone().into()],
    ))
    .one(txn)
    .await?;
    match found {
        Some(a) if a.slot_id == b.slot.as_uuid() && a.patient_id == b.patient.to_string() => {
            Ok(Some(a))
        }
        Some(_) => Err(StoreError::Conflict(
            tessera_edge::codes::IDEMPOTENCY_MISMATCH,
            "this Idempotency-Key booked another slot or patient: use a new key for a new booking"
                .into(),
        )),
        None => Ok(None),
    }
}

/// Takes the patient's lock: one booking change at a time per patient in this trust.
async fn lock_patient(txn: &DatabaseTransaction, patient: &str) -> Result<(), StoreError> {
    txn.execute(stmt(
        "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':patient:' || $1, 0))",
        vec![patient.into()],
    ))
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct Clash {
    id: Uuid,
}

/// Books `b`; `replacing` is an appointment of the same patient that this one replaces (a
/// reschedule), which does not count as a clash.
pub async fn book(
    txn: &DatabaseTransaction,
    b: &NewBooking,
    replacing: Option<AppointmentId>,
) -> Result<Booking, StoreError> {
    let patient = b.patient.to_string();
    lock_patient(txn, &patient).await?;
    if let Some(a) = earlier(txn, b).await? {
        return Ok(Booking::Replayed(a));
    }
    let slot = lock(txn, b.slot).await?;
    if let Some(h) = b.hold {
        let live = txn
            .query_one(stmt(
                "SELECT 1 AS one FROM slot_hold WHERE id = $1 AND slot_id = $2 AND expires_at > now()",
                vec![h.as_uuid().into(), b.slot.as_uuid().into()],
            ))
            .await?;
        if live.is_none() {
            return Err(StoreError::Conflict(
                errors::HOLD_LAPSED,
                "the hold has lapsed or is not on this slot; book without it or hold again".into(),
            ));
        }
    }
    let limit = slot.capacity + if b.overbook { slot.overbook } else { 0 };
    if slot.booked + held_by_others(txn, b.slot, b.hold).await? >= limit {
        return Err(StoreError::Conflict(
            errors::SLOT_FULL,
            "every place in the slot is booked or held".into(),
        ));
    }
    if let Some(c) = Clash::find_by_statement(stmt(
        "SELECT id FROM appointment WHERE patient_id = $1 AND status = 'booked'
            AND starts_at < $3 AND ends_at > $2 AND id IS DISTINCT FROM $4 LIMIT 1",
        vec![
            patient.clone().into(),
            slot.starts_at.into(),
            slot.ends_at.into(),
            replacing.map(AppointmentId::as_uuid).into(),
        ],
    ))
    .one(txn)
    .await?
    {
        return Err(StoreError::Conflict(
            errors::PATIENT_DOUBLE_BOOKED,
            format!(
                "the patient has appointment {} at an overlapping time",
                c.id
            ),
        ));
    }
    txn.execute(stmt(
        "UPDATE slot SET booked = booked + 1 WHERE id = $1",
        vec![b.slot.as_uuid().into()],
    ))
    .await?;
    if let Some(h) = b.hold {
        txn.execute(stmt(
            "DELETE FROM slot_hold WHERE id = $1",
            vec![h.as_uuid().into()],
        ))
        .await?;
    }
    // A patient on the rebooking worklist who is booked again is off it.
    txn.execute(stmt(
        "UPDATE rebook SET done_at = now() WHERE patient_id = $1 AND done_at IS NULL
            AND ($2::uuid IS NULL OR referral_id IS NULL OR referral_id = $2)",
        vec![patient.clone().into(), b.referral.into()],
    ))
    .await?;
    let now = Utc::now();
    Appointment::find_by_statement(stmt(
        &format!(
            "INSERT INTO appointment (id, slot_id, clinic_id, patient_id, referral_id, pathway_id, starts_at, ends_at,
                                      status, attendance_code, overbooked, rescheduled_from, booked_by, booked_at,
                                      updated_at, version, ppid, ppid_issuer, communicated, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', 0, $9, $10, $11, $12, $12, 1, $13, $14, $15, $16)
             RETURNING {}",
            columns()
        ),
        vec![
            AppointmentId::new().as_uuid().into(),
            b.slot.as_uuid().into(),
            slot.clinic_id.into(),
            patient.into(),
            b.referral.into(),
            b.pathway.into(),
            slot.starts_at.into(),
            slot.ends_at.into(),
            (slot.booked >= slot.capacity).into(),
            replacing.map(AppointmentId::as_uuid).into(),
            b.by.clone().into(),
            now.into(),
            b.ppid.as_ref().map(|p| p.0.clone()).into(),
            b.ppid.as_ref().map(|p| p.1.clone()).into(),
            b.communicated.into(),
            b.key.clone().into(),
        ],
    ))
    .one(txn)
    .await?
    .map(Booking::New)
    .ok_or(StoreError::NotFound)
}

pub async fn appointment(
    txn: &DatabaseTransaction,
    id: AppointmentId,
) -> Result<Appointment, StoreError> {
    Appointment::find_by_statement(stmt(
        &format!("SELECT {} FROM appointment WHERE id = $1", columns()),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}
