//! Attachments: added to a draft as a new version of its document (`attached`, the text
//! unchanged), kept for ever by their hash, read back byte for byte.
use super::changes::{apply, Applied, Change};
use super::documents::Author;
use super::{stmt, StoreError};
use crate::domain::attachment::Attachment;
use crate::domain::{AttachmentId, DocumentId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Stored {
    pub id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The document's version that added it.
    pub version: i32,
    pub by_user: String,
    pub recorded_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, document_id, title, content_type, size, sha256, version, by_user, recorded_at";

/// Adds `a` to the document (read under its row lock) as its next version (if `expected` is
/// its newest).
pub async fn attach(
    txn: &DatabaseTransaction,
    d: super::Document,
    expected: i32,
    a: &Attachment,
    by: &Author,
    now: DateTime<Utc>,
) -> Result<(Applied, Option<Stored>), StoreError> {
    let id = DocumentId::from(d.id);
    let applied = apply(txn, d, expected, &Change::Attach, by, now).await?;
    let Applied::Changed(d) = &applied else {
        return Ok((applied, None));
    };
    let stored = Stored::find_by_statement(stmt(
        &format!(
            "INSERT INTO attachment (id, document_id, title, content_type, size, sha256, content, version, by_user, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
        ),
        vec![
            AttachmentId::new().as_uuid().into(),
            id.as_uuid().into(),
            a.title.clone().into(),
            a.content_type.into(),
            (a.bytes.len() as i64).into(),
            a.sha256().into(),
            a.bytes.clone().into(),
            d.version.into(),
            by.user.clone().into(),
            now.into(),
        ],
    ))
    .one(txn)
    .await?;
    Ok((applied, stored))
}

pub async fn list(txn: &DatabaseTransaction, id: DocumentId) -> Result<Vec<Stored>, StoreError> {
    Ok(Stored::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM attachment WHERE document_id = $1 ORDER BY version, id"),
        vec![id.as_uuid().into()],
    ))
    .all(txn)
    .await?)
}

/// An attachment's metadata and bytes.
pub async fn content(
    txn: &DatabaseTransaction,
    id: DocumentId,
    attachment: Uuid,
) -> Result<(Stored, Vec<u8>), StoreError> {
    let row = txn
        .query_one(stmt(
            &format!(
                "SELECT {COLUMNS}, content FROM attachment WHERE document_id = $1 AND id = $2"
            ),
            vec![id.as_uuid().into(), attachment.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let bytes: Vec<u8> = row.try_get("", "content")?;
    Ok((Stored::from_query_result(&row, "")?, bytes))
}
