//! Documents as clinical-docs publishes them, and their signed content shared for the
//! regional record.
use super::{exec, stmt};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use uuid::Uuid;

pub struct DocumentRow {
    pub id: Uuid,
    pub patient_id: String,
    pub type_code: String,
    pub title: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

pub async fn document_created(
    txn: &DatabaseTransaction,
    d: &DocumentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_document (id, patient_id, type_code, title, author, status, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7)
         ON CONFLICT (id) DO NOTHING",
        vec![
            d.id.into(),
            d.patient_id.clone().into(),
            d.type_code.clone().into(),
            d.title.clone().into(),
            d.author.clone().into(),
            d.created_at.into(),
            at.into(),
        ],
    )
    .await
}

/// A later version: its status and title (only a newer version moves the row).
pub async fn document_version(
    txn: &DatabaseTransaction,
    id: Uuid,
    version: i32,
    status: &str,
    title: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_document SET version = $2, status = $3,
                title = CASE WHEN $4 = '' THEN title ELSE $4 END, updated_at = $5
          WHERE id = $1 AND version < $2",
        vec![
            id.into(),
            version.into(),
            status.into(),
            title.into(),
            at.into(),
        ],
    )
    .await
}

pub async fn document_signed(
    txn: &DatabaseTransaction,
    id: Uuid,
    signed_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_document SET signed_at = coalesce(signed_at, $2), updated_at = $3 WHERE id = $1",
        vec![id.into(), signed_at.into(), at.into()],
    )
    .await
}

/// A document's newest signed content (a newer version replaces an older one), or, withdrawn
/// (entered in error), none.
pub struct ContentRow {
    pub document_id: Uuid,
    pub patient_id: String,
    pub version: i32,
    pub content_type: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

pub async fn content(
    txn: &DatabaseTransaction,
    c: &ContentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_document_content (document_id, patient_id, version, content_type, content, sha256, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (document_id) DO UPDATE SET patient_id = EXCLUDED.patient_id,
             version = EXCLUDED.version, content_type = EXCLUDED.content_type,
             content = EXCLUDED.content, sha256 = EXCLUDED.sha256, updated_at = EXCLUDED.updated_at
          WHERE reg_document_content.version < EXCLUDED.version",
        vec![
            c.document_id.into(),
            c.patient_id.clone().into(),
            c.version.into(),
            c.content_type.clone().into(),
            c.content.clone().into(),
            c.sha256.clone().into(),
            at.into(),
        ],
    )
    .await
}

pub async fn content_withdrawn(txn: &DatabaseTransaction, document: Uuid) -> Result<(), DbErr> {
    exec(
        txn,
        "DELETE FROM reg_document_content WHERE document_id = $1",
        vec![document.into()],
    )
    .await
}

/// What a content request answers: the document's trust's copy, if it has one for `patients`.
#[derive(sea_orm::FromQueryResult)]
pub struct Shared {
    pub patient_id: String,
    pub version: i32,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The shared content of `document`, if it belongs to one of `patients` (in the trust whose
/// schema the transaction is scoped to).
pub async fn shared<C: ConnectionTrait>(
    db: &C,
    document: Uuid,
    patients: &[String],
) -> Result<Option<Shared>, DbErr> {
    use sea_orm::FromQueryResult;
    Shared::find_by_statement(stmt(
        "SELECT patient_id, version, content_type, content FROM reg_document_content
          WHERE document_id = $1 AND patient_id = ANY($2)",
        vec![document.into(), patients.to_vec().into()],
    ))
    .one(db)
    .await
}
