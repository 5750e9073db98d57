//! A service's rows following the patient through the MPI's merges (docs/contracts/merge.md):
//! a merge re-points the merged record's rows to the survivor and marks each with the merge;
//! an unmerge puts back exactly the marked rows. Nothing is combined: what two records of one
//! person make impossible (two appointments at once, two open hospital spells) is left for a
//! person as a **merge review**. The tables: `merge_repoint` and `merge_review`
//! ([`CreateMergeFollowing`]); scheduling made the same tables earlier under its own
//! migration, so they are created `IF NOT EXISTS`.
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, FromQueryResult, Statement};
use sea_orm_migration::prelude::*;
use serde::Serialize;
use uuid::Uuid;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A table that names patients: its name, its row id column, and the rows of the merged
/// record that must stay where they are (an SQL condition on the row, `$1` the merged id
/// and `$2` the survivor's), if any.
pub struct Follows {
    pub table: &'static str,
    pub key: &'static str,
    pub except: Option<&'static str>,
}

/// Re-points the merged record's rows in `tables` to the survivor, each marked with the merge.
pub async fn follow(
    txn: &DatabaseTransaction,
    merge_id: &str,
    merged: &str,
    survivor: &str,
    tables: &[Follows],
) -> Result<(), DbErr> {
    for t in tables {
        let keep = t
            .except
            .map(|e| format!(" AND NOT ({e})"))
            .unwrap_or_default();
        txn.execute(stmt(
            &format!(
                "WITH moved AS (UPDATE {table} SET patient_id = $2 WHERE patient_id = $1{keep} RETURNING {key})
                 INSERT INTO merge_repoint (merge_id, table_name, row_id)
                 SELECT $3, '{table}', {key} FROM moved ON CONFLICT DO NOTHING",
                table = t.table,
                key = t.key
            ),
            vec![merged.into(), survivor.into(), merge_id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Puts back exactly the rows `merge_id` re-pointed, and closes its reviews.
pub async fn undo(
    txn: &DatabaseTransaction,
    merge_id: &str,
    restored: &str,
    tables: &[Follows],
) -> Result<(), DbErr> {
    for t in tables {
        txn.execute(stmt(
            &format!(
                "UPDATE {table} SET patient_id = $2
                  WHERE {key} IN (SELECT row_id FROM merge_repoint WHERE merge_id = $1 AND table_name = '{table}')",
                table = t.table,
                key = t.key
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

/// Leaves `kind` for a person to decide, after `merge_id`.
pub async fn raise_review(
    txn: &DatabaseTransaction,
    merge_id: &str,
    patient: &str,
    kind: &str,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    txn.execute(stmt(
        "INSERT INTO merge_review (id, merge_id, patient_id, kind, detail, raised_at)
         VALUES ($1, $2, $3, $4, $5, now())",
        vec![
            Uuid::now_v7().into(),
            merge_id.into(),
            patient.into(),
            kind.into(),
            detail.into(),
        ],
    ))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct MergeReview {
    pub id: Uuid,
    pub merge_id: String,
    pub patient_id: String,
    /// `overlapping-appointments` (scheduling), `two-open-spells` (PAS).
    pub kind: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub raised_at: chrono::DateTime<chrono::Utc>,
}

/// Open merge reviews, oldest first.
pub async fn reviews(txn: &DatabaseTransaction, limit: u64) -> Result<Vec<MergeReview>, DbErr> {
    MergeReview::find_by_statement(stmt(
        "SELECT id, merge_id, patient_id, kind, detail, raised_at FROM merge_review
          WHERE resolved_at IS NULL ORDER BY raised_at, id LIMIT $1",
        vec![(limit.clamp(1, 1000) as i64).into()],
    ))
    .all(txn)
    .await
}

pub struct CreateMergeFollowing;

impl MigrationName for CreateMergeFollowing {
    fn name(&self) -> &str {
        "m20261207_000700_create_merge_following"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateMergeFollowing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS merge_repoint (
                     merge_id   text NOT NULL,
                     table_name text NOT NULL,
                     row_id     uuid NOT NULL,
                     PRIMARY KEY (merge_id, table_name, row_id)
                 );
                 CREATE TABLE IF NOT EXISTS merge_review (
                     id          uuid PRIMARY KEY,
                     merge_id    text NOT NULL,
                     patient_id  text NOT NULL,
                     kind        text NOT NULL,
                     detail      jsonb NOT NULL,
                     raised_at   timestamptz NOT NULL,
                     resolved_at timestamptz
                 );
                 CREATE INDEX IF NOT EXISTS merge_review_open ON merge_review (raised_at)
                   WHERE resolved_at IS NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS merge_review; DROP TABLE IF EXISTS merge_repoint;",
            )
            .await?;
        Ok(())
    }
}

/// What a service follows the MPI's merges with: its tables, and what it checks once a
/// merge's rows have moved (a review to raise).
pub trait FollowMerges: Send + Sync + 'static {
    fn tables(&self) -> &'static [Follows];

    fn after_merge<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        merge_id: &'a str,
        merged: &'a str,
        survivor: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), DbErr>>;
}

/// The consumer of the MPI's `PatientMerged` and `PatientUnmerged` (`mpi.patient`) for a
/// service that [`FollowMerges`].
pub struct MergeFollower<T>(pub T);

impl<T: FollowMerges> tessera_events::Handler for MergeFollower<T> {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a tessera_events::InboundEvent,
    ) -> futures::future::BoxFuture<'a, Result<(), tessera_events::HandlerError>> {
        use prost::Message as _;
        use tessera_events::HandlerError;
        use tessera_proto::mpi::v1 as mpi;
        Box::pin(async move {
            match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::PatientMerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientMerged", e))?;
                    let (merged, survivor) = (&m.merged_patient_id, &m.survivor_patient_id);
                    follow(txn, &m.merge_id, merged, survivor, self.0.tables())
                        .await
                        .map_err(HandlerError::store)?;
                    self.0
                        .after_merge(txn, &m.merge_id, merged, survivor)
                        .await
                        .map_err(HandlerError::store)
                }
                "uk.nhs.tessera.mpi.PatientUnmerged.v1" => {
                    let m = mpi::PatientUnmerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientUnmerged", e))?;
                    undo(txn, &m.merge_id, &m.merged_patient_id, self.0.tables())
                        .await
                        .map_err(HandlerError::store)
                }
                _ => Ok(()),
            }
        })
    }
}
