//! The admitted (elective) waiting list: a decision to admit puts the patient on it (with the
//! RTT pathway it serves); offers of a to-come-in (TCI) date are kept, accepted or declined;
//! an entry may be suspended (patient unavailable) until a date, removed with a reason, or
//! closed by the admission that names it — in the admission's transaction. The census on a
//! date counts what was open on that date, whenever it closed.
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Entry {
    pub id: Uuid,
    pub patient_id: String,
    pub referral_id: Option<Uuid>,
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    pub decided_on: NaiveDate,
    pub intended_management: String,
    /// `routine`, `urgent`, `two-week-wait`.
    pub priority: String,
    pub treatment_function: String,
    pub consultant: String,
    pub procedure_note: Option<String>,
    /// `waiting`, `admitted` or `removed`.
    pub status: String,
    /// The accepted to-come-in date, if any.
    pub tci_date: Option<NaiveDate>,
    pub suspended_until: Option<NaiveDate>,
    pub suspend_reason: Option<String>,
    pub removal_reason: Option<String>,
    pub spell_id: Option<Uuid>,
    /// Days from the decision to admit to today (or to its close).
    pub days_waiting: i32,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, patient_id, referral_id, ppid, ppid_issuer, decided_on, intended_management,
    priority, treatment_function, consultant, procedure_note, status, tci_date, suspended_until,
    suspend_reason, removal_reason, spell_id,
    (coalesce((closed_at AT TIME ZONE 'Europe/London')::date, (now() AT TIME ZONE 'Europe/London')::date) - decided_on) AS days_waiting,
    version, updated_at";

pub struct NewEntry {
    pub patient: tessera_patients::PatientId,
    pub referral: Option<Uuid>,
    pub ppid: Option<(String, String)>,
    pub decided_on: NaiveDate,
    pub management: String,
    pub priority: String,
    pub treatment_function: String,
    pub consultant: String,
    pub note: Option<String>,
    pub by: String,
}

pub async fn add(txn: &DatabaseTransaction, e: &NewEntry) -> Result<Entry, StoreError> {
    Entry::find_by_statement(stmt(
        &format!(
            "INSERT INTO waiting_list_entry (id, patient_id, referral_id, ppid, ppid_issuer, decided_on,
                 intended_management, priority, treatment_function, consultant, procedure_note, status,
                 created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'waiting', $12, now(), now())
             RETURNING {COLUMNS}"
        ),
        vec![
            Uuid::now_v7().into(),
            e.patient.to_string().into(),
            e.referral.into(),
            e.ppid.as_ref().map(|p| p.0.clone()).into(),
            e.ppid.as_ref().map(|p| p.1.clone()).into(),
            e.decided_on.into(),
            e.management.clone().into(),
            e.priority.clone().into(),
            e.treatment_function.clone().into(),
            e.consultant.clone().into(),
            e.note.clone().into(),
            e.by.clone().into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn entry(txn: &DatabaseTransaction, id: Uuid) -> Result<Entry, StoreError> {
    Entry::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM waiting_list_entry WHERE id = $1"),
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The entry, locked, and still waiting.
async fn open(txn: &DatabaseTransaction, id: Uuid) -> Result<Entry, StoreError> {
    let e = Entry::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM waiting_list_entry WHERE id = $1 FOR UPDATE"),
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if e.status != "waiting" {
        return Err(conflict(
            errors::WAITING_LIST_CLOSED,
            format!("the entry is {}", e.status),
        ));
    }
    Ok(e)
}

async fn set(
    txn: &DatabaseTransaction,
    id: Uuid,
    assignments: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Entry, StoreError> {
    let mut v = vec![id.into()];
    v.extend(values);
    Entry::find_by_statement(stmt(
        &format!(
            "UPDATE waiting_list_entry SET {assignments}, version = version + 1, updated_at = now()
              WHERE id = $1 RETURNING {COLUMNS}"
        ),
        v,
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Records an offer of `tci_date`; accepted, it becomes the entry's date.
pub async fn offer(
    txn: &DatabaseTransaction,
    id: Uuid,
    tci_date: NaiveDate,
    accepted: bool,
    by: &str,
) -> Result<Entry, StoreError> {
    open(txn, id).await?;
    txn_execute(
        txn,
        "INSERT INTO tci_offer (id, entry_id, tci_date, accepted, offered_by, offered_at)
         VALUES ($1, $2, $3, $4, $5, now())",
        vec![
            Uuid::now_v7().into(),
            id.into(),
            tci_date.into(),
            accepted.into(),
            by.into(),
        ],
    )
    .await?;
    if accepted {
        set(txn, id, "tci_date = $2", vec![tci_date.into()]).await
    } else {
        set(txn, id, "tci_date = tci_date", vec![]).await
    }
}

async fn txn_execute(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), StoreError> {
    use sea_orm::ConnectionTrait;
    txn.execute(stmt(sql, values)).await?;
    Ok(())
}

/// Suspends the entry until `until` (the patient unavailable); `None` lifts a suspension.
pub async fn suspend(
    txn: &DatabaseTransaction,
    id: Uuid,
    until: Option<NaiveDate>,
    reason: Option<String>,
) -> Result<Entry, StoreError> {
    open(txn, id).await?;
    set(
        txn,
        id,
        "suspended_until = $2, suspend_reason = $3",
        vec![until.into(), reason.into()],
    )
    .await
}

pub async fn remove(
    txn: &DatabaseTransaction,
    id: Uuid,
    reason: &str,
) -> Result<Entry, StoreError> {
    open(txn, id).await?;
    set(
        txn,
        id,
        "status = 'removed', removal_reason = $2, closed_at = now()",
        vec![reason.into()],
    )
    .await
}

/// Closes the entry for the admission `spell` of `patient` (in the admission's transaction).
pub(super) async fn admitted(
    txn: &DatabaseTransaction,
    id: Uuid,
    patient: &str,
    spell: Uuid,
) -> Result<Entry, StoreError> {
    let e = open(txn, id).await?;
    if e.patient_id != patient {
        return Err(StoreError::Domain(crate::domain::DomainError::invalid(
            "waiting_list_entry_id",
            "other-patient",
            "the waiting list entry is another patient's",
        )));
    }
    set(
        txn,
        id,
        "status = 'admitted', spell_id = $2, closed_at = now()",
        vec![spell.into()],
    )
    .await
}

/// Puts the entry a cancelled admission closed back on the list, as it was.
pub(super) async fn reopen(txn: &DatabaseTransaction, spell: Uuid) -> Result<(), StoreError> {
    txn_execute(
        txn,
        "UPDATE waiting_list_entry SET status = 'waiting', spell_id = NULL, closed_at = NULL,
                version = version + 1, updated_at = now()
          WHERE spell_id = $1 AND status = 'admitted'",
        vec![spell.into()],
    )
    .await
}

/// The open entries, most urgent first then longest waiting; of one treatment function.
pub async fn list(
    txn: &DatabaseTransaction,
    treatment_function: Option<String>,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    Ok(Entry::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM waiting_list_entry
              WHERE status = 'waiting' AND ($1::text IS NULL OR treatment_function = $1)
              ORDER BY CASE priority WHEN 'two-week-wait' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
                       decided_on, id
              LIMIT $2"
        ),
        vec![treatment_function.into(), (limit as i64).into()],
    ))
    .all(txn)
    .await?)
}

/// One row of the census: what was on the list on `on`, per treatment function and priority.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct CensusRow {
    pub treatment_function: String,
    pub priority: String,
    pub waiting: i64,
    /// Of those, suspended on the day.
    pub suspended: i64,
    /// Of those, with an accepted to-come-in date.
    pub with_tci: i64,
    pub longest_days: i32,
    pub median_days: f64,
}

pub async fn census(
    txn: &DatabaseTransaction,
    on: NaiveDate,
) -> Result<Vec<CensusRow>, StoreError> {
    Ok(CensusRow::find_by_statement(stmt(
        "SELECT treatment_function, priority, count(*) AS waiting,
                count(*) FILTER (WHERE suspended_until >= $1) AS suspended,
                count(*) FILTER (WHERE tci_date IS NOT NULL) AS with_tci,
                max($1 - decided_on) AS longest_days,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY $1 - decided_on) AS median_days
           FROM waiting_list_entry
          WHERE decided_on <= $1
            AND (closed_at IS NULL OR (closed_at AT TIME ZONE 'Europe/London')::date > $1)
          GROUP BY treatment_function, priority
          ORDER BY treatment_function, priority",
        vec![on.into()],
    ))
    .all(txn)
    .await?)
}
