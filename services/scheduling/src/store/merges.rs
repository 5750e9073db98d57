//! Appointments, rebooking entries and the referrals seen follow the patient through the
//! MPI's merges (docs/contracts/merge.md): a merge re-points the merged record's rows to the
//! survivor and marks each with the merge; an unmerge puts back exactly the marked rows.
//! Nothing is combined: two booked appointments of the survivor at overlapping times are left
//! for a person, as a merge review on the worklist.
use super::{stmt, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

/// The tables that name patients, and each one's row id column.
const TABLES: [(&str, &str); 3] = [
    ("appointment", "id"),
    ("rebook", "appointment_id"),
    ("referral_seen", "referral_id"),
];

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

pub async fn follow_merge(
    txn: &DatabaseTransaction,
    merge_id: &str,
    merged: &str,
    survivor: &str,
) -> Result<(), StoreError> {
    for (table, key) in TABLES {
        txn.execute(stmt(
            &format!(
                "WITH moved AS (UPDATE {table} SET patient_id = $2 WHERE patient_id = $1 RETURNING {key})
                 INSERT INTO merge_repoint (merge_id, table_name, row_id)
                 SELECT $3, '{table}', {key} FROM moved ON CONFLICT DO NOTHING"
            ),
            vec![merged.into(), survivor.into(), merge_id.into()],
        ))
        .await?;
    }
    // Two booked appointments of one person at once: one of them is wrong, a person decides.
    let clashes = Id::find_by_statement(stmt(
        "SELECT a.id FROM appointment a JOIN appointment b
             ON a.patient_id = b.patient_id AND a.id <> b.id
          WHERE a.patient_id = $1 AND a.status = 'booked' AND b.status = 'booked'
            AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
          ORDER BY a.id",
        vec![survivor.into()],
    ))
    .all(txn)
    .await?;
    if !clashes.is_empty() {
        let ids: Vec<String> = clashes.iter().map(|c| c.id.to_string()).collect();
        txn.execute(stmt(
            "INSERT INTO merge_review (id, merge_id, patient_id, kind, detail, raised_at)
             VALUES ($1, $2, $3, 'overlapping-appointments', $4, now())",
            vec![
                Uuid::now_v7().into(),
                merge_id.into(),
                survivor.into(),
                serde_json::json!({ "appointments": ids }).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn undo_merge(
    txn: &DatabaseTransaction,
    merge_id: &str,
    restored: &str,
) -> Result<(), StoreError> {
    for (table, key) in TABLES {
        txn.execute(stmt(
            &format!(
                "UPDATE {table} SET patient_id = $2
                  WHERE {key} IN (SELECT row_id FROM merge_repoint WHERE merge_id = $1 AND table_name = '{table}')"
            ),
            vec![merge_id.into(), restored.into()],
        ))
        .await?;
    }
    txn.execute(stmt(
        "DELETE FROM merge_repoint WHERE merge_id = $1",
        vec![merge_id.into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE merge_review SET resolved_at = now() WHERE merge_id = $1 AND resolved_at IS NULL",
        vec![merge_id.into()],
    ))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct MergeReview {
    pub id: Uuid,
    pub merge_id: String,
    pub patient_id: String,
    /// `overlapping-appointments`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub raised_at: DateTime<Utc>,
}

/// Open merge reviews, oldest first.
pub async fn merge_reviews(
    txn: &DatabaseTransaction,
    limit: u64,
) -> Result<Vec<MergeReview>, StoreError> {
    Ok(MergeReview::find_by_statement(stmt(
        "SELECT id, merge_id, patient_id, kind, detail, raised_at FROM merge_review
          WHERE resolved_at IS NULL ORDER BY raised_at, id LIMIT $1",
        vec![(limit.clamp(1, 1000) as i64).into()],
    ))
    .all(txn)
    .await?)
}
