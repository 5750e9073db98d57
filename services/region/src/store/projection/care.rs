//! Referrals, RTT clocks, appointments and hospital spells, as the trust's services publish
//! them.
use super::{exec, opt};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use uuid::Uuid;

/// A referral as received.
pub struct ReferralRow {
    pub id: Uuid,
    pub patient_id: String,
    pub ubrn: String,
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub team: String,
    pub state: String,
    pub received_on: Option<NaiveDate>,
    pub pathway_id: Option<Uuid>,
}

pub async fn referral(
    txn: &DatabaseTransaction,
    r: &ReferralRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_referral (id, patient_id, ubrn, priority, specialty, treatment_function,
                                   team, state, received_on, pathway_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET ubrn = EXCLUDED.ubrn, priority = EXCLUDED.priority,
             specialty = EXCLUDED.specialty, treatment_function = EXCLUDED.treatment_function,
             team = EXCLUDED.team, received_on = EXCLUDED.received_on,
             pathway_id = EXCLUDED.pathway_id, updated_at = EXCLUDED.updated_at",
        vec![
            r.id.into(),
            r.patient_id.clone().into(),
            opt(&r.ubrn).into(),
            opt(&r.priority).into(),
            opt(&r.specialty).into(),
            opt(&r.treatment_function).into(),
            opt(&r.team).into(),
            r.state.clone().into(),
            r.received_on.into(),
            r.pathway_id.into(),
            at.into(),
        ],
    )
    .await
}

/// A referral moved to `state` (its lifecycle's transitions arrive in order: one key).
pub async fn referral_state(
    txn: &DatabaseTransaction,
    id: Uuid,
    state: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_referral SET state = $2, updated_at = $3 WHERE id = $1",
        vec![id.into(), state.into(), at.into()],
    )
    .await
}

/// An RTT pathway's clock as the referrals service last published it.
pub struct PathwayRow {
    pub id: Uuid,
    pub patient_id: String,
    pub treatment_function: String,
    pub clock: String,
    pub clock_start: Option<NaiveDate>,
    pub clock_stop: Option<NaiveDate>,
}

pub async fn pathway(
    txn: &DatabaseTransaction,
    p: &PathwayRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_pathway (id, patient_id, treatment_function, clock, clock_start, clock_stop, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id,
             treatment_function = EXCLUDED.treatment_function, clock = EXCLUDED.clock,
             clock_start = EXCLUDED.clock_start, clock_stop = EXCLUDED.clock_stop,
             updated_at = EXCLUDED.updated_at",
        vec![
            p.id.into(),
            p.patient_id.clone().into(),
            opt(&p.treatment_function).into(),
            p.clock.clone().into(),
            p.clock_start.into(),
            p.clock_stop.into(),
            at.into(),
        ],
    )
    .await
}

pub struct AppointmentRow {
    pub id: Uuid,
    pub patient_id: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub treatment_function: String,
    pub team: String,
    pub clinician: String,
    pub referral_id: String,
}

pub async fn appointment_booked(
    txn: &DatabaseTransaction,
    a: &AppointmentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_appointment (id, patient_id, starts_at, treatment_function, team, clinician,
                                      referral_id, status, updated_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8, $9)
         ON CONFLICT (id) DO NOTHING",
        vec![
            a.id.into(),
            a.patient_id.clone().into(),
            a.starts_at.into(),
            opt(&a.treatment_function).into(),
            opt(&a.team).into(),
            opt(&a.clinician).into(),
            opt(&a.referral_id).into(),
            at.into(),
            a.ends_at.into(),
        ],
    )
    .await
}

/// Attended, cancelled, not attended...: the scheduling service's outcome word.
pub async fn appointment_closed(
    txn: &DatabaseTransaction,
    id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_appointment SET status = $2, updated_at = $3 WHERE id = $1",
        vec![id.into(), status.into(), at.into()],
    )
    .await
}

pub struct AdmissionRow {
    pub id: Uuid,
    pub patient_id: String,
    pub admitted_at: Option<DateTime<Utc>>,
    pub ward_team: String,
    pub consultant: String,
    pub purpose: String,
}

pub async fn admitted(
    txn: &DatabaseTransaction,
    a: &AdmissionRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_encounter (id, patient_id, admitted_at, ward_team, consultant, purpose, status, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'in-progress', $7)
         ON CONFLICT (id) DO UPDATE SET admitted_at = EXCLUDED.admitted_at,
             ward_team = EXCLUDED.ward_team, consultant = EXCLUDED.consultant,
             purpose = EXCLUDED.purpose, status = 'in-progress', updated_at = EXCLUDED.updated_at",
        vec![
            a.id.into(),
            a.patient_id.clone().into(),
            a.admitted_at.into(),
            opt(&a.ward_team).into(),
            opt(&a.consultant).into(),
            opt(&a.purpose).into(),
            at.into(),
        ],
    )
    .await
}

pub async fn transferred(
    txn: &DatabaseTransaction,
    id: Uuid,
    team: &str,
    ward: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_encounter SET ward_team = $2, ward = $3, updated_at = $4 WHERE id = $1",
        vec![id.into(), opt(team).into(), opt(ward).into(), at.into()],
    )
    .await
}

pub async fn discharged(
    txn: &DatabaseTransaction,
    id: Uuid,
    when: Option<DateTime<Utc>>,
    method: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_encounter SET status = 'finished', discharged_at = $2, discharge_method = $3,
                updated_at = $4 WHERE id = $1",
        vec![id.into(), when.into(), opt(method).into(), at.into()],
    )
    .await
}

/// An admission cancelled (never happened) or a discharge cancelled (back in).
pub async fn cancelled(
    txn: &DatabaseTransaction,
    id: Uuid,
    what: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = match what {
        "admission" => {
            "UPDATE reg_encounter SET status = 'cancelled', updated_at = $2 WHERE id = $1"
        }
        "discharge" => {
            "UPDATE reg_encounter SET status = 'in-progress', discharged_at = NULL,
                    discharge_method = NULL, updated_at = $2 WHERE id = $1"
        }
        _ => return Ok(()),
    };
    exec(txn, sql, vec![id.into(), at.into()]).await
}
