//! A booked appointment's end: cancelled by the patient (code 2) or the provider (4), its
//! outcome recorded (3, 5, 6, 7), or its whole session cancelled; and the rebooking worklist
//! those put patients on. Each change locks the appointment first (a FHIR `If-Match` is
//! checked under that lock).
use super::appointments::{appointment, Appointment};
use super::{stmt, StoreError};
use crate::api::errors;
use crate::domain::{AppointmentId, Attendance, CancelledBy, SessionId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(FromQueryResult)]
struct Cancelled {
    id: Uuid,
}

#[derive(FromQueryResult)]
struct Booked {
    slot_id: Uuid,
    version: i64,
    patient_id: String,
    referral_id: Option<Uuid>,
    status: String,
    starts_at: DateTime<Utc>,
}

/// Locks a booked appointment for a change of state; anything else is a conflict, and so is
/// a version other than `expected` (a FHIR `If-Match`), checked under the same lock.
async fn lock_booked(
    txn: &DatabaseTransaction,
    id: AppointmentId,
    expected: Option<i64>,
) -> Result<Booked, StoreError> {
    let a = Booked::find_by_statement(stmt(
        "SELECT slot_id, version, patient_id, referral_id, status, starts_at FROM appointment
          WHERE id = $1 FOR UPDATE",
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(v) = expected.filter(|v| *v != a.version) {
        return Err(StoreError::Conflict(
            errors::VERSION_CONFLICT,
            format!(
                "the appointment is at version {}, not {v}: read it again",
                a.version
            ),
        ));
    }
    if a.status != "booked" {
        return Err(StoreError::Conflict(
            errors::NOT_BOOKED,
            format!("the appointment is {}, not booked", a.status),
        ));
    }
    Ok(a)
}

async fn add_to_rebook(
    txn: &DatabaseTransaction,
    id: AppointmentId,
    a: &Booked,
    reason: &str,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO rebook (appointment_id, patient_id, referral_id, reason, since)
         VALUES ($1, $2, $3, $4, now()) ON CONFLICT (appointment_id) DO NOTHING",
        vec![
            id.as_uuid().into(),
            a.patient_id.clone().into(),
            a.referral_id.into(),
            reason.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Cancels a booked appointment and frees its place; a provider cancellation puts the
/// patient on the rebooking worklist. `expected`: the version the caller read, if any.
pub async fn cancel(
    txn: &DatabaseTransaction,
    id: AppointmentId,
    by: CancelledBy,
    reason: &str,
    expected: Option<i64>,
) -> Result<Appointment, StoreError> {
    let a = lock_booked(txn, id, expected).await?;
    txn.execute(stmt(
        "UPDATE slot SET booked = booked - 1 WHERE id = $1",
        vec![a.slot_id.into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE appointment SET status = 'cancelled', attendance_code = $2, cancel_reason = $3,
                updated_at = now(), version = version + 1 WHERE id = $1",
        vec![id.as_uuid().into(), by.code().into(), reason.into()],
    ))
    .await?;
    if by == CancelledBy::Provider {
        add_to_rebook(txn, id, &a, "provider-cancelled").await?;
    }
    appointment(txn, id).await
}

/// Records how a booked appointment went. Not before its day (local time). `expected` as
/// for [`cancel`].
pub async fn record_outcome(
    txn: &DatabaseTransaction,
    id: AppointmentId,
    outcome: Attendance,
    expected: Option<i64>,
) -> Result<Appointment, StoreError> {
    let a = lock_booked(txn, id, expected).await?;
    let not_yet = txn
        .query_one(stmt(
            &format!(
                "SELECT 1 AS one WHERE ($1::timestamptz AT TIME ZONE '{z}')::date > (now() AT TIME ZONE '{z}')::date",
                z = super::ZONE
            ),
            vec![a.starts_at.into()],
        ))
        .await?;
    if not_yet.is_some() {
        return Err(StoreError::Conflict(
            errors::NOT_YET,
            "an outcome is recorded on or after the appointment's day".into(),
        ));
    }
    txn.execute(stmt(
        "UPDATE appointment SET status = $2, attendance_code = $3, updated_at = now(), version = version + 1
          WHERE id = $1",
        vec![
            id.as_uuid().into(),
            outcome.status().into(),
            outcome.code().into(),
        ],
    ))
    .await?;
    if outcome.needs_rebooking() {
        add_to_rebook(txn, id, &a, outcome.status()).await?;
    }
    appointment(txn, id).await
}

/// Cancels a whole session (the clinician on leave): its slots blocked first — so a booking
/// racing it either committed before, and is cancelled here, or is refused after — then
/// every booked appointment in it cancelled by the provider and put on the rebooking list.
pub async fn cancel_session(
    txn: &DatabaseTransaction,
    session: SessionId,
    reason: &str,
) -> Result<Vec<Uuid>, StoreError> {
    let found = txn
        .execute(stmt(
            "UPDATE session SET cancelled_at = coalesce(cancelled_at, now()), cancel_reason = coalesce(cancel_reason, $2)
              WHERE id = $1",
            vec![session.as_uuid().into(), reason.into()],
        ))
        .await?
        .rows_affected();
    if found == 0 {
        return Err(StoreError::NotFound);
    }
    txn.execute(stmt(
        "UPDATE slot SET blocked = true WHERE session_id = $1",
        vec![session.as_uuid().into()],
    ))
    .await?;
    let cancelled = Cancelled::find_by_statement(stmt(
        "UPDATE appointment SET status = 'cancelled', attendance_code = 4, cancel_reason = $2,
                updated_at = now(), version = version + 1
          WHERE status = 'booked' AND slot_id IN (SELECT id FROM slot WHERE session_id = $1)
          RETURNING id",
        vec![session.as_uuid().into(), reason.into()],
    ))
    .all(txn)
    .await?;
    txn.execute(stmt(
        "INSERT INTO rebook (appointment_id, patient_id, referral_id, reason, since)
         SELECT id, patient_id, referral_id, 'session-cancelled', now() FROM appointment WHERE id = ANY($1)
         ON CONFLICT (appointment_id) DO NOTHING",
        vec![cancelled.iter().map(|c| c.id).collect::<Vec<Uuid>>().into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE slot SET booked = 0 WHERE session_id = $1",
        vec![session.as_uuid().into()],
    ))
    .await?;
    Ok(cancelled.into_iter().map(|c| c.id).collect())
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct RebookItem {
    pub appointment_id: Uuid,
    pub patient_id: String,
    pub referral_id: Option<Uuid>,
    /// `provider-cancelled`, `session-cancelled`, `did-not-attend`, `not-seen`.
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// Patients to offer another appointment, longest waiting first.
pub async fn rebook_worklist(
    txn: &DatabaseTransaction,
    limit: u64,
) -> Result<Vec<RebookItem>, StoreError> {
    Ok(RebookItem::find_by_statement(stmt(
        "SELECT appointment_id, patient_id, referral_id, reason, since FROM rebook
          WHERE done_at IS NULL ORDER BY since, appointment_id LIMIT $1",
        vec![(limit.clamp(1, 1000) as i64).into()],
    ))
    .all(txn)
    .await?)
}
