//! Outpatient attendances as scheduling reports them (`AppointmentClosed`): each
//! appointment's end kept once, the attended ones recorded as activity.
use super::{stmt, StoreError};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

pub struct Seen {
    pub appointment_id: Uuid,
    pub patient_id: String,
    /// ATTENDED OR DID NOT ATTEND: 2, 3, 4, 5, 6 or 7.
    pub attendance_code: String,
    pub first: bool,
    pub treatment_function: String,
    pub clinician: String,
    pub on_date: NaiveDate,
    pub ppid: Option<(String, String)>,
}

/// Keeps `s`; `false` when the appointment's end was seen already (a redelivery).
pub async fn seen(txn: &DatabaseTransaction, s: &Seen) -> Result<bool, StoreError> {
    let done = txn
        .execute(stmt(
            "INSERT INTO attendance (appointment_id, patient_id, attendance_code, first_attendance,
                                     treatment_function, clinician, on_date, ppid, ppid_issuer, seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
             ON CONFLICT (appointment_id) DO NOTHING",
            vec![
                s.appointment_id.into(),
                s.patient_id.clone().into(),
                s.attendance_code.clone().into(),
                s.first.into(),
                s.treatment_function.clone().into(),
                s.clinician.clone().into(),
                s.on_date.into(),
                s.ppid.as_ref().map(|p| p.0.clone()).into(),
                s.ppid.as_ref().map(|p| p.1.clone()).into(),
            ],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}
