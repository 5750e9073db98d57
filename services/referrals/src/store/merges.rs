//! Referrals and pathways follow the patient through the MPI's merges (docs/contracts/
//! merge.md): a merge re-points the merged record's rows to the survivor and marks each with
//! the merge; an unmerge puts back exactly the marked rows. Nothing is combined: two running
//! clocks in one specialty after a merge are left for a person, as a merge review.
use super::pathways::recompute;
use super::{stmt, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_bootstrap::TraceContext;
use tessera_tenancy::TenantId;
use uuid::Uuid;

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

async fn repoint(
    txn: &DatabaseTransaction,
    merge_id: &str,
    table: &'static str,
    from: &str,
    to: &str,
) -> Result<Vec<Uuid>, StoreError> {
    let ids = Id::find_by_statement(stmt(
        &format!("UPDATE {table} SET patient_id = $2 WHERE patient_id = $1 RETURNING id"),
        vec![from.into(), to.into()],
    ))
    .all(txn)
    .await?;
    for i in &ids {
        txn.execute(stmt(
            "INSERT INTO merge_repoint (merge_id, table_name, row_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            vec![merge_id.into(), table.into(), i.id.into()],
        ))
        .await?;
    }
    Ok(ids.into_iter().map(|i| i.id).collect())
}

pub async fn follow_merge(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    merge_id: &str,
    merged: &str,
    survivor: &str,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    repoint(txn, merge_id, "referral", merged, survivor).await?;
    let pathways = repoint(txn, merge_id, "pathway", merged, survivor).await?;
    for p in &pathways {
        recompute(txn, tenant, *p, trace).await?;
    }
    if pathways.is_empty() {
        return Ok(());
    }
    // Two running clocks in one specialty: the same wait counted twice, or two conditions.
    let rows = txn
        .query_all(stmt(
            "SELECT p.specialty, array_agg(p.id::text ORDER BY p.id) AS ids
               FROM pathway p JOIN rtt_period r ON r.pathway_id = p.id AND r.end_date IS NULL
              WHERE p.patient_id = $1
              GROUP BY p.specialty HAVING count(*) > 1",
            vec![survivor.into()],
        ))
        .await?;
    for row in rows {
        let specialty: String = row.try_get("", "specialty")?;
        let ids: Vec<String> = row.try_get("", "ids")?;
        txn.execute(stmt(
            "INSERT INTO merge_review (id, merge_id, patient_id, kind, detail)
             VALUES ($1, $2, $3, 'running-clocks', $4)",
            vec![
                Uuid::now_v7().into(),
                merge_id.into(),
                survivor.into(),
                serde_json::json!({ "specialty": specialty, "pathways": ids }).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn undo_merge(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    merge_id: &str,
    restored: &str,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    let mut pathways = Vec::new();
    for table in ["referral", "pathway"] {
        let ids = Id::find_by_statement(stmt(
            &format!(
                "UPDATE {table} SET patient_id = $2
                  WHERE id IN (SELECT row_id FROM merge_repoint
                                WHERE merge_id = $1 AND table_name = '{table}')
                 RETURNING id"
            ),
            vec![merge_id.into(), restored.into()],
        ))
        .all(txn)
        .await?;
        if table == "pathway" {
            pathways = ids.into_iter().map(|i| i.id).collect();
        }
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
    for p in pathways {
        recompute(txn, tenant, p, trace).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct MergeReview {
    pub id: Uuid,
    pub merge_id: String,
    pub patient_id: String,
    pub kind: String,
    pub detail: serde_json::Value,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Open merge reviews, oldest first.
pub async fn merge_reviews<C: ConnectionTrait>(db: &C) -> Result<Vec<MergeReview>, StoreError> {
    Ok(MergeReview::find_by_statement(stmt(
        "SELECT id, merge_id, patient_id, kind, detail, raised_at, resolved_at FROM merge_review
          WHERE resolved_at IS NULL ORDER BY raised_at",
        vec![],
    ))
    .all(db)
    .await?)
}
