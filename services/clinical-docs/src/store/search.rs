//! A patient's documents, found by type, status, author, date and words in their text
//! (PostgreSQL full-text search, English stemming), newest first. The caller's access
//! decision has already named the documents it may not see: they are left out of the rows
//! and of the total alike.
use super::{stmt, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

/// What to look for, parsed. (No `Debug`: the words searched for may be clinical.)
#[derive(Clone, Default)]
pub struct Filter {
    pub patient_id: String,
    pub type_code: Option<String>,
    pub status: Option<String>,
    pub author: Option<String>,
    /// A local date (`YYYY-MM-DD`, Europe/London) or an RFC 3339 instant, checked.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Words, as a person types them (`websearch_to_tsquery`: quotes, `or`, `-word`).
    pub words: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

/// One document in a list: what it is, not its content.
#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Summary {
    pub id: Uuid,
    pub patient_id: String,
    pub type_code: String,
    pub type_display: String,
    pub title: String,
    pub status: String,
    pub version: i32,
    pub author_user: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const WHERE: &str = "WHERE d.patient_id = $1
            AND ($2::text IS NULL OR d.doc_type = $2)
            AND ($3::text IS NULL OR d.status = $3)
            AND ($4::text IS NULL OR d.author_user = $4)
            AND ($5::text IS NULL OR d.created_at >= (CASE WHEN length($5) = 10
                 THEN ($5::date)::timestamp AT TIME ZONE 'Europe/London' ELSE $5::timestamptz END))
            AND ($6::text IS NULL OR d.created_at < (CASE WHEN length($6) = 10
                 THEN ($6::date)::timestamp AT TIME ZONE 'Europe/London' ELSE $6::timestamptz END))
            AND ($7::text IS NULL OR d.words @@ websearch_to_tsquery('english', $7))
            AND d.id <> ALL($8)";

/// The page of documents `f` finds, without `hidden`, and how many there are in all.
pub async fn search(
    txn: &DatabaseTransaction,
    f: &Filter,
    hidden: &[Uuid],
) -> Result<(Vec<Summary>, i64), StoreError> {
    let values = || -> Vec<sea_orm::Value> {
        vec![
            f.patient_id.clone().into(),
            f.type_code.clone().into(),
            f.status.clone().into(),
            f.author.clone().into(),
            f.from.clone().into(),
            f.to.clone().into(),
            f.words.clone().into(),
            hidden.to_vec().into(),
        ]
    };
    let mut page = values();
    page.push((f.limit as i64).into());
    page.push((f.offset as i64).into());
    let rows = Summary::find_by_statement(stmt(
        &format!(
            "SELECT d.id, d.patient_id, d.doc_type AS type_code, t.display AS type_display, d.title,
                    d.status, d.version, d.author_user, d.created_at, d.updated_at
               FROM document d JOIN document_type t ON t.code = d.doc_type
              {WHERE}
              ORDER BY d.created_at DESC, d.id
              LIMIT $9 OFFSET $10"
        ),
        page,
    ))
    .all(txn)
    .await?;
    let total = if f.offset == 0 && (rows.len() as u64) < f.limit {
        rows.len() as i64
    } else {
        let r = txn
            .query_one(stmt(
                &format!("SELECT count(*) AS n FROM document d {WHERE}"),
                values(),
            ))
            .await?;
        r.map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0)
    };
    Ok((rows, total))
}
