//! Activity records: one live record for every finished consultant episode (`apc-episode`,
//! CDS 130-style) and every attended outpatient appointment (`outpatient`, CDS 020-style).
//! The partial unique index on (kind, source) makes a second one impossible; a record whose
//! source is undone (a cancelled discharge reopens the episode) is withdrawn, never deleted,
//! so what was posted stays visible.
use super::{conflict, stmt, StoreError, ZONE};
use crate::api::errors;
use crate::domain::{ActivityId, Icd10, Opcs4};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Activity {
    pub id: Uuid,
    /// `apc-episode` or `outpatient`.
    pub kind: String,
    /// The episode or the appointment recorded.
    pub source_id: Uuid,
    pub patient_id: String,
    pub spell_id: Option<Uuid>,
    pub spell_number: Option<i64>,
    pub treatment_function: String,
    pub consultant: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub admission_method: Option<String>,
    pub admission_source: Option<String>,
    pub discharge_method: Option<String>,
    pub discharge_destination: Option<String>,
    /// Outpatient: ATTENDED OR DID NOT ATTEND (5 or 6).
    pub attendance_code: Option<String>,
    /// Outpatient: FIRST ATTENDANCE, 1 first or 2 follow-up.
    pub first_attendance: Option<String>,
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    pub commissioner: Option<String>,
    pub diagnoses: Vec<String>,
    pub procedures: Vec<String>,
    pub coded_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub version: i64,
}

pub(crate) const COLUMNS: &str = "id, kind, source_id, patient_id, spell_id, spell_number,
    treatment_function, consultant, start_date, end_date, admission_method, admission_source,
    discharge_method, discharge_destination, attendance_code, first_attendance, ppid,
    ppid_issuer, commissioner, diagnoses, procedures, coded_at, recorded_at, withdrawn_at, version";

/// Records the finished episode `episode`; `None` when it has its live record already.
pub async fn record_episode(
    txn: &DatabaseTransaction,
    episode: Uuid,
) -> Result<Option<Activity>, StoreError> {
    Ok(Activity::find_by_statement(stmt(
        &format!(
            "INSERT INTO activity (id, kind, source_id, patient_id, spell_id, spell_number, treatment_function,
                                   consultant, start_date, end_date, admission_method, admission_source,
                                   discharge_method, discharge_destination, ppid, ppid_issuer, commissioner,
                                   recorded_at)
             SELECT $2, 'apc-episode', e.id, s.patient_id, s.id, s.spell_number, e.treatment_function,
                    e.consultant, (e.started_at AT TIME ZONE '{ZONE}')::date,
                    (e.ended_at AT TIME ZONE '{ZONE}')::date, s.admission_method, s.admission_source,
                    CASE WHEN s.status = 'discharged' AND s.discharged_at = e.ended_at THEN s.discharge_method END,
                    CASE WHEN s.status = 'discharged' AND s.discharged_at = e.ended_at THEN s.discharge_destination END,
                    s.ppid, s.ppid_issuer, s.commissioner, now()
               FROM episode e JOIN spell s ON s.id = e.spell_id
              WHERE e.id = $1 AND e.ended_at IS NOT NULL AND e.cancelled_at IS NULL
             ON CONFLICT (kind, source_id) WHERE withdrawn_at IS NULL DO NOTHING
             RETURNING {COLUMNS}"
        ),
        vec![episode.into(), ActivityId::new().as_uuid().into()],
    ))
    .one(txn)
    .await?)
}

/// Records the attended appointment `appointment` (seen in `attendance`); `None` when it
/// has its live record already, or was not attended.
pub async fn record_outpatient(
    txn: &DatabaseTransaction,
    appointment: Uuid,
) -> Result<Option<Activity>, StoreError> {
    Ok(Activity::find_by_statement(stmt(
        &format!(
            "INSERT INTO activity (id, kind, source_id, patient_id, treatment_function, consultant, start_date,
                                   end_date, attendance_code, first_attendance, ppid, ppid_issuer, recorded_at)
             SELECT $2, 'outpatient', a.appointment_id, a.patient_id, a.treatment_function, a.clinician,
                    a.on_date, a.on_date, a.attendance_code, CASE WHEN a.first_attendance THEN '1' ELSE '2' END,
                    a.ppid, a.ppid_issuer, now()
               FROM attendance a
              WHERE a.appointment_id = $1 AND a.attendance_code IN ('5', '6')
             ON CONFLICT (kind, source_id) WHERE withdrawn_at IS NULL DO NOTHING
             RETURNING {COLUMNS}"
        ),
        vec![appointment.into(), ActivityId::new().as_uuid().into()],
    ))
    .one(txn)
    .await?)
}

/// Withdraws the live record of `kind` for `source`, if there is one.
pub async fn withdraw(
    txn: &DatabaseTransaction,
    kind: &str,
    source: Uuid,
    reason: &str,
) -> Result<Option<Activity>, StoreError> {
    Ok(Activity::find_by_statement(stmt(
        &format!(
            "UPDATE activity SET withdrawn_at = now(), withdraw_reason = $3, version = version + 1
              WHERE kind = $1 AND source_id = $2 AND withdrawn_at IS NULL
             RETURNING {COLUMNS}"
        ),
        vec![kind.into(), source.into(), reason.into()],
    ))
    .one(txn)
    .await?)
}

pub struct Coding {
    pub diagnoses: Vec<Icd10>,
    pub procedures: Vec<Opcs4>,
    pub by: String,
}

/// Sets the record's coding (replacing what was there); a withdrawn record is not coded.
pub async fn code(
    txn: &DatabaseTransaction,
    id: ActivityId,
    c: &Coding,
) -> Result<Activity, StoreError> {
    let current = activity(txn, id).await?;
    if current.withdrawn_at.is_some() {
        return Err(conflict(
            errors::ACTIVITY_WITHDRAWN,
            "the record was withdrawn: what it recorded was undone",
        ));
    }
    let diagnoses: Vec<String> = c.diagnoses.iter().map(|d| d.as_str().to_string()).collect();
    let procedures: Vec<String> = c
        .procedures
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    Activity::find_by_statement(stmt(
        &format!(
            "UPDATE activity SET diagnoses = $2, procedures = $3, coded_at = now(), coded_by = $4,
                                 version = version + 1
              WHERE id = $1 RETURNING {COLUMNS}"
        ),
        vec![
            id.as_uuid().into(),
            diagnoses.into(),
            procedures.into(),
            c.by.clone().into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn activity(txn: &DatabaseTransaction, id: ActivityId) -> Result<Activity, StoreError> {
    Activity::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM activity WHERE id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The live records ending in `[from, to)`, in end-date order: the extract's rows.
pub async fn ending_between(
    txn: &DatabaseTransaction,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Activity>, StoreError> {
    Ok(Activity::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM activity WHERE end_date >= $1 AND end_date < $2 AND withdrawn_at IS NULL
              ORDER BY end_date, recorded_at, id"
        ),
        vec![from.into(), to.into()],
    ))
    .all(txn)
    .await?)
}

/// Every discharged spell and attended appointment against its activity: what is missing,
/// doubled, or still uncoded after `uncoded_days`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Finished episodes of spells discharged in the window.
    pub finished_episodes: i64,
    /// Attended appointments in the window.
    pub attended_appointments: i64,
    pub activity_records: i64,
    /// Finished episodes and attended appointments with no live record.
    pub missing: Vec<Uuid>,
    /// Sources with more than one live record.
    pub doubled: Vec<Uuid>,
    /// Inpatient records with no diagnosis, recorded more than `uncoded_days` ago.
    pub uncoded: Vec<Uuid>,
    pub uncoded_days: i64,
}

#[derive(FromQueryResult)]
struct Counts {
    finished: i64,
    attended: i64,
    records: i64,
}

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

async fn ids(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(Id::find_by_statement(stmt(sql, values))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Episodes of spells discharged in `[$1, $2)` (local dates), and appointments attended in it.
const FINISHED: &str = "SELECT e.id FROM episode e JOIN spell s ON s.id = e.spell_id
     WHERE s.status = 'discharged' AND e.cancelled_at IS NULL AND e.ended_at IS NOT NULL
       AND (s.discharged_at AT TIME ZONE 'Europe/London')::date >= $1
       AND (s.discharged_at AT TIME ZONE 'Europe/London')::date < $2";
const ATTENDED: &str = "SELECT appointment_id AS id FROM attendance
     WHERE attendance_code IN ('5', '6') AND on_date >= $1 AND on_date < $2";

pub async fn reconcile(
    txn: &DatabaseTransaction,
    from: NaiveDate,
    to: NaiveDate,
    uncoded_days: i64,
) -> Result<Reconciliation, StoreError> {
    let w = || vec![from.into(), to.into()];
    let counts = Counts::find_by_statement(stmt(
        &format!(
            "SELECT (SELECT count(*) FROM ({FINISHED}) f) AS finished,
                    (SELECT count(*) FROM ({ATTENDED}) a) AS attended,
                    (SELECT count(*) FROM activity x WHERE x.withdrawn_at IS NULL
                        AND (x.source_id IN ({FINISHED}) OR x.source_id IN ({ATTENDED}))) AS records"
        ),
        w(),
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let missing = ids(
        txn,
        &format!(
            "SELECT id FROM ({FINISHED} UNION ALL {ATTENDED}) src
              WHERE NOT EXISTS (SELECT 1 FROM activity x WHERE x.source_id = src.id AND x.withdrawn_at IS NULL)
              ORDER BY id"
        ),
        w(),
    )
    .await?;
    let doubled = ids(
        txn,
        &format!(
            "SELECT x.source_id AS id FROM activity x
              WHERE x.withdrawn_at IS NULL AND (x.source_id IN ({FINISHED}) OR x.source_id IN ({ATTENDED}))
              GROUP BY x.source_id HAVING count(*) > 1 ORDER BY 1"
        ),
        w(),
    )
    .await?;
    let mut v = w();
    v.push(uncoded_days.into());
    let uncoded = ids(
        txn,
        &format!(
            "SELECT x.id FROM activity x
              WHERE x.withdrawn_at IS NULL AND x.kind = 'apc-episode' AND cardinality(x.diagnoses) = 0
                AND x.recorded_at < now() - make_interval(days => $3::int)
                AND x.source_id IN ({FINISHED}) ORDER BY x.id"
        ),
        v,
    )
    .await?;
    Ok(Reconciliation {
        from,
        to,
        finished_episodes: counts.finished,
        attended_appointments: counts.attended,
        activity_records: counts.records,
        missing,
        doubled,
        uncoded,
        uncoded_days,
    })
}
