//! The possible-match review queue. A pair is one row for ever: once rejected it stays
//! rejected, so the matcher never offers it again; once confirmed it names its merge.
use super::patients::stmt;
use super::StoreError;
use crate::domain::PatientId;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Review {
    pub id: Uuid,
    pub patient_low: Uuid,
    pub patient_high: Uuid,
    pub score: f64,
    pub grade: String,
    pub explanation: serde_json::Value,
    pub status: String,
    pub found_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub merge_id: Option<Uuid>,
}

impl std::fmt::Debug for Review {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Review({}, {})", self.id, self.status)
    }
}

const COLUMNS: &str = "id, patient_low, patient_high, score, grade, explanation, status, found_at, decided_at, decided_by, reason, merge_id";

fn ordered(a: PatientId, b: PatientId) -> (Uuid, Uuid) {
    if a.uuid() < b.uuid() {
        (a.uuid(), b.uuid())
    } else {
        (b.uuid(), a.uuid())
    }
}

/// Offers a pair for review. A pair seen before (open, confirmed or rejected) is left as it
/// is; returns whether a new item was queued.
pub async fn offer(
    txn: &DatabaseTransaction,
    a: PatientId,
    b: PatientId,
    score: f64,
    grade: &str,
    explanation: serde_json::Value,
) -> Result<bool, StoreError> {
    if a == b {
        return Ok(false);
    }
    let (low, high) = ordered(a, b);
    let n = txn
        .execute(stmt(
            "INSERT INTO match_review (id, patient_low, patient_high, score, grade, explanation, status, found_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT (patient_low, patient_high) DO NOTHING",
            vec![
                Uuid::now_v7().into(),
                low.into(),
                high.into(),
                score.into(),
                grade.into(),
                explanation.into(),
                Utc::now().trunc_subsecs(6).into(),
            ],
        ))
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Pairs a person rejected, among `others`, for `patient`: never offered again.
pub async fn rejected_with(
    txn: &DatabaseTransaction,
    patient: PatientId,
) -> Result<Vec<PatientId>, StoreError> {
    #[derive(FromQueryResult)]
    struct Other {
        other: Uuid,
    }
    Ok(Other::find_by_statement(stmt(
        "SELECT CASE WHEN patient_low = $1 THEN patient_high ELSE patient_low END AS other
         FROM match_review WHERE (patient_low = $1 OR patient_high = $1) AND status = 'rejected'",
        vec![patient.uuid().into()],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(|o| PatientId::from_uuid(o.other))
    .collect())
}

/// Open items whose two records are both still active, oldest first.
pub async fn list(
    txn: &DatabaseTransaction,
    status: &str,
    limit: u64,
) -> Result<Vec<Review>, StoreError> {
    Ok(Review::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM match_review r WHERE status = $1
               AND ($1 <> 'open' OR NOT EXISTS (
                   SELECT 1 FROM patient p WHERE p.id IN (r.patient_low, r.patient_high) AND p.merged_into IS NOT NULL))
             ORDER BY found_at, id LIMIT $2"
        ),
        vec![status.into(), (limit.clamp(1, 500) as i64).into()],
    ))
    .all(txn)
    .await?)
}

/// The item for a pair, whatever its state.
pub async fn for_pair(
    txn: &DatabaseTransaction,
    a: PatientId,
    b: PatientId,
) -> Result<Option<Review>, StoreError> {
    let (low, high) = ordered(a, b);
    Ok(Review::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM match_review WHERE patient_low = $1 AND patient_high = $2"),
        vec![low.into(), high.into()],
    ))
    .one(txn)
    .await?)
}

pub async fn get_for_update(
    txn: &DatabaseTransaction,
    id: Uuid,
) -> Result<Option<Review>, StoreError> {
    Ok(Review::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM match_review WHERE id = $1 FOR UPDATE"),
        vec![id.into()],
    ))
    .one(txn)
    .await?)
}

/// Records a person's decision on an open item.
pub async fn decide(
    txn: &DatabaseTransaction,
    id: Uuid,
    status: &str,
    by: &str,
    reason: Option<String>,
    merge_id: Option<Uuid>,
) -> Result<Review, StoreError> {
    Review::find_by_statement(stmt(
        &format!(
            "UPDATE match_review SET status = $2, decided_at = $3, decided_by = $4, reason = $5, merge_id = $6
             WHERE id = $1 RETURNING {COLUMNS}"
        ),
        vec![
            id.into(),
            status.into(),
            Utc::now().trunc_subsecs(6).into(),
            by.into(),
            reason.into(),
            merge_id.into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}
