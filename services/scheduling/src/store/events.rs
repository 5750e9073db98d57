//! What this service tells the others, through the outbox in the transaction that makes the
//! change (`tessera.<ods>.scheduling.appointment`, keyed by patient id; Protobuf in
//! `proto/tessera/scheduling/v1/appointment.proto`):
//! - `AppointmentBooked` — the access service gives the clinic's clinician and team a
//!   legitimate relationship with the patient; the referrals service moves the referral it
//!   names to BOOKED and, for a rebooking after a first-appointment DNA (derived here), starts
//!   the new clock;
//! - `AppointmentClosed` — cancelled (2, 4) or given its outcome (5, 6, 7, 3), with the RTT
//!   part of `docs/contracts/clock-events.md`: the referrals service records the clock event
//!   (a DNA of the period's first appointment nullifies it). Whether it is the first is
//!   derived here: no earlier appointment on the same pathway was attended.
use super::{local, stmt, StoreError, ZONE};
use crate::domain::AppointmentId;
use chrono::{SecondsFormat, Utc};
use prost::Message as _;
use sea_orm::{DatabaseTransaction, FromQueryResult};
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue, OutgoingEvent};
use tessera_proto::scheduling::v1::{AppointmentBooked, AppointmentClosed};
use tessera_tenancy::TenantId;
use uuid::Uuid;

pub mod types {
    pub const BOOKED: &str = "uk.nhs.tessera.scheduling.AppointmentBooked.v1";
    pub const CLOSED: &str = "uk.nhs.tessera.scheduling.AppointmentClosed.v1";
}

/// Where and under which trace an event goes.
#[derive(Clone)]
pub struct Publish {
    pub tenant: TenantId,
    pub trace: Option<TraceContext>,
}

impl Publish {
    fn event(&self, ce_type: &str, patient_id: &str, payload: Vec<u8>) -> OutgoingEvent {
        OutgoingEvent {
            topic: self.tenant.topic("scheduling", "appointment"),
            key: patient_id.to_string(),
            ce_type: ce_type.into(),
            source: "/tessera/scheduling".into(),
            subject: Some(patient_id.to_string()),
            payload,
            trace: self.trace.clone(),
        }
    }
}

#[derive(FromQueryResult)]
struct BookedRow {
    patient_id: String,
    clinician: Option<String>,
    team: Option<String>,
    start: String,
    end: String,
    referral_id: Option<Uuid>,
    treatment_function: String,
    ppid: String,
    ppid_issuer: String,
    booked_on: String,
    after_first_dna: bool,
    rescheduled_from: Option<Uuid>,
}

pub async fn booked(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: AppointmentId,
) -> Result<(), StoreError> {
    let r = BookedRow::find_by_statement(stmt(
        &format!(
            "SELECT a.patient_id, c.clinician, c.team, {} AS start, {} AS end, a.referral_id, c.treatment_function,
                    coalesce(a.ppid, '') AS ppid, coalesce(a.ppid_issuer, '') AS ppid_issuer,
                    to_char(a.booked_at AT TIME ZONE '{ZONE}', 'YYYY-MM-DD') AS booked_on,
                    (a.ppid IS NOT NULL
                     AND EXISTS (SELECT 1 FROM appointment e WHERE e.ppid = a.ppid AND e.ppid_issuer = a.ppid_issuer
                                    AND e.id <> a.id AND e.attendance_code IN (3, 7))
                     AND NOT EXISTS (SELECT 1 FROM appointment e WHERE e.ppid = a.ppid AND e.ppid_issuer = a.ppid_issuer
                                    AND e.attendance_code IN (5, 6))) AS after_first_dna,
                    a.rescheduled_from
               FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
            local("a.starts_at"),
            local("a.ends_at")
        ),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let m = AppointmentBooked {
        appointment_id: id.to_string(),
        patient_id: r.patient_id.clone(),
        clinician_user_id: r.clinician.unwrap_or_default(),
        team: r.team.unwrap_or_default(),
        starts_at: r.start,
        ends_at: r.end,
        referral_id: r.referral_id.map(|u| u.to_string()).unwrap_or_default(),
        treatment_function: r.treatment_function,
        ppid: r.ppid,
        ppid_issuer: r.ppid_issuer,
        booked_on: r.booked_on,
        rebooking_after_first_dna: r.after_first_dna,
        rescheduled_from: r
            .rescheduled_from
            .map(|u| u.to_string())
            .unwrap_or_default(),
    };
    enqueue(
        txn,
        p.event(types::BOOKED, &r.patient_id, m.encode_to_vec()),
    )
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct ClosedRow {
    patient_id: String,
    status: String,
    attendance_code: i16,
    ppid: String,
    ppid_issuer: String,
    communicated: bool,
    day: String,
    first: bool,
    treatment_function: String,
    clinician: String,
    slot_type: String,
}

/// What the clinician recorded with an outcome, for the RTT clock.
#[derive(Debug, Clone, Default)]
pub struct Rtt {
    /// `20` (or empty) continuing, `30` treated, `31`/`32` active monitoring, `34`, `35`,
    /// `36`, `11`, `12`, `21`, `90`–`92`, `98` (the contract's list).
    pub status: String,
    /// With a DNA: discharged under the trust's DNA policy.
    pub discharged: bool,
}

pub async fn closed(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: Uuid,
    rtt: &Rtt,
) -> Result<(), StoreError> {
    let r = ClosedRow::find_by_statement(stmt(
        &format!(
            "SELECT a.patient_id, a.status, a.attendance_code, coalesce(a.ppid, '') AS ppid,
                    coalesce(a.ppid_issuer, '') AS ppid_issuer, a.communicated,
                    to_char(a.starts_at AT TIME ZONE '{ZONE}', 'YYYY-MM-DD') AS day,
                    NOT EXISTS (SELECT 1 FROM appointment e
                                 WHERE e.ppid = a.ppid AND e.ppid_issuer = a.ppid_issuer AND e.id <> a.id
                                   AND e.starts_at < a.starts_at AND e.attendance_code IN (5, 6)) AS first,
                    c.treatment_function, coalesce(c.clinician, '') AS clinician, s.slot_type
               FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN slot s ON s.id = a.slot_id
              WHERE a.id = $1"
        ),
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let m = AppointmentClosed {
        appointment_id: id.to_string(),
        patient_id: r.patient_id.clone(),
        closed_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        outcome: r.status,
        first_appointment: r.first && !r.ppid.is_empty(),
        ppid: r.ppid,
        ppid_issuer: r.ppid_issuer,
        attendance: r.attendance_code.to_string(),
        communicated: r.communicated,
        rtt_status: rtt.status.clone(),
        appointment_date: r.day,
        discharged: rtt.discharged,
        treatment_function: r.treatment_function,
        clinician_user_id: r.clinician,
        slot_type: r.slot_type,
    };
    enqueue(
        txn,
        p.event(types::CLOSED, &r.patient_id, m.encode_to_vec()),
    )
    .await?;
    Ok(())
}
