//! Documents and their versions: created as version 1, read as they stand now (the newest
//! version) or as any version was, byte for byte, with who made each and why.
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{DocumentId, NewDocument};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Who makes a version: the user, their selected role, their organisation.
#[derive(Debug, Clone)]
pub struct Author {
    pub user: String,
    pub role: String,
    pub org: String,
}

/// A document as it stands: its newest version's content and status.
#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Document {
    pub id: Uuid,
    pub patient_id: String,
    pub type_code: String,
    pub type_display: String,
    pub title: String,
    /// `draft`, `final`, `amended` or `entered-in-error`.
    pub status: String,
    /// The newest version: what `If-Match` names.
    pub version: i32,
    pub context_kind: Option<String>,
    pub context_id: Option<Uuid>,
    pub author_user: String,
    pub author_role: String,
    pub author_org: String,
    /// The type asks for a countersignature before the document is final.
    pub countersign: bool,
    pub countersigner: Option<String>,
    pub signed_by: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub countersigned_by: Option<String>,
    pub countersigned_at: Option<DateTime<Utc>>,
    pub template_id: Option<Uuid>,
    /// A letter: the ODS code of the GP practice it goes to (empty: none known).
    pub letter_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub content_type: String,
    pub sha256: String,
    #[serde(skip)]
    pub content: Vec<u8>,
}

/// One version, as it was made.
#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Version {
    pub version: i32,
    /// `created`, `edited`, `signed`, `countersigned`, `amended`, `entered-in-error`,
    /// `section-signed`.
    pub action: String,
    pub status: String,
    pub title: String,
    pub content_type: String,
    pub sha256: String,
    pub by_user: String,
    pub by_role: String,
    pub by_org: String,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
    #[serde(skip)]
    pub content: Vec<u8>,
}

// Titles, reasons and content are clinical text: never in a log line.
impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Document({}, v{}, {}, {} bytes)",
            self.id,
            self.version,
            self.status,
            self.content.len()
        )
    }
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Version({}, {}, {} bytes)",
            self.version,
            self.action,
            self.content.len()
        )
    }
}

/// Content as JSON: text as `text`, a structured body as `body`, anything else as base64.
pub fn content_json(content_type: &str, bytes: &[u8]) -> (&'static str, Value) {
    if content_type == "application/json" {
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            return ("body", v);
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if content_type.starts_with("text/") => ("text", Value::from(s)),
        _ => (
            "data",
            Value::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    }
}

pub(crate) const DOCUMENT: &str =
    "SELECT d.id, d.patient_id, d.doc_type AS type_code, t.display AS type_display,
        d.title, d.status, d.version, d.context_kind, d.context_id, d.author_user, d.author_role,
        d.author_org, d.countersign, d.countersigner, d.signed_by, d.signed_at, d.countersigned_by,
        d.countersigned_at, d.template_id, d.letter_to, d.created_at, d.updated_at,
        v.content_type, v.sha256, v.content
   FROM document d
   JOIN document_type t ON t.code = d.doc_type
   JOIN document_version v ON v.document_id = d.id AND v.version = d.version";

const VERSION: &str =
    "SELECT version, action, status, title, content_type, sha256, by_user, by_role,
        by_org, reason, recorded_at, content FROM document_version";

/// The words a document is found by: its title and its text.
pub(crate) const WORDS: &str = "to_tsvector('english', $1 || ' ' || $2)";

pub async fn document(
    txn: &impl ConnectionTrait,
    id: DocumentId,
    lock: bool,
) -> Result<Document, StoreError> {
    if lock {
        // The lock on its own statement: the read after it sees the newest version. (Locked
        // in the read itself, a row another transaction moved on would be re-checked against
        // the version row read before the wait, and vanish.)
        txn.execute(stmt(
            "SELECT 1 FROM document WHERE id = $1 FOR UPDATE",
            vec![id.as_uuid().into()],
        ))
        .await?;
    }
    let sql = format!("{DOCUMENT} WHERE d.id = $1");
    Document::find_by_statement(stmt(&sql, vec![id.as_uuid().into()]))
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Every version, oldest first.
pub async fn versions(
    txn: &DatabaseTransaction,
    id: DocumentId,
) -> Result<Vec<Version>, StoreError> {
    Ok(Version::find_by_statement(stmt(
        &format!("{VERSION} WHERE document_id = $1 ORDER BY version"),
        vec![id.as_uuid().into()],
    ))
    .all(txn)
    .await?)
}

pub async fn version(
    txn: &DatabaseTransaction,
    id: DocumentId,
    n: i32,
) -> Result<Version, StoreError> {
    Version::find_by_statement(stmt(
        &format!("{VERSION} WHERE document_id = $1 AND version = $2"),
        vec![id.as_uuid().into(), n.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Whether the trust has this document type, and whether it needs a countersignature.
async fn countersign_of(txn: &DatabaseTransaction, code: &str) -> Result<bool, StoreError> {
    let row = txn
        .query_one(stmt(
            "SELECT countersign FROM document_type WHERE code = $1",
            vec![code.into()],
        ))
        .await?
        .ok_or_else(|| {
            conflict(
                errors::TYPE_UNKNOWN,
                format!("the trust has no document type {code} (PUT /document-types/{code})"),
            )
        })?;
    Ok(row.try_get::<bool>("", "countersign")?)
}

/// Creates version 1 (a draft). A document from a source that already made one answers that
/// one, unchanged (`false`): generated letters are made once per outcome.
/// `author` is whose document it is (who signs it); `by` who made version 1 — the same
/// person, or the service itself for a generated letter.
pub async fn create(
    txn: &DatabaseTransaction,
    d: &NewDocument,
    template: Option<Uuid>,
    author: &Author,
    by: &Author,
    now: DateTime<Utc>,
) -> Result<(Document, bool), StoreError> {
    let countersign = countersign_of(txn, d.doc_type.code.as_str()).await?;
    tessera_patients::require_known(txn, d.patient_id.as_uuid(), now).await?;
    let id = DocumentId::new().as_uuid();
    let words = d.content.words();
    let inserted = txn
        .execute(stmt(
            &format!(
                "INSERT INTO document (id, patient_id, doc_type, title, status, version, context_kind,
                    context_id, author_user, author_role, author_org, countersign, countersigner,
                    template_id, source, letter_to, created_at, updated_at, words)
                 VALUES ($3, $4, $5, $1, 'draft', 1, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $15, $15, {WORDS})
                 ON CONFLICT (source) DO NOTHING"
            ),
            vec![
                d.title.clone().into(),
                words.into(),
                id.into(),
                d.patient_id.to_string().into(),
                d.doc_type.code.as_str().into(),
                d.context.as_ref().map(|c| c.kind.as_str().to_string()).into(),
                d.context.as_ref().map(|c| c.id).into(),
                author.user.clone().into(),
                author.role.clone().into(),
                author.org.clone().into(),
                countersign.into(),
                d.countersigner.clone().into(),
                template.into(),
                d.source.clone().into(),
                now.into(),
                d.letter_to.clone().into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 0 {
        let existing = txn
            .query_one(stmt(
                "SELECT id FROM document WHERE source = $1",
                vec![d.source.clone().into()],
            ))
            .await?
            .ok_or(StoreError::NotFound)?;
        let id = DocumentId::from(existing.try_get::<Uuid>("", "id")?);
        return Ok((document(txn, id, false).await?, false));
    }
    txn.execute(stmt(
        "INSERT INTO document_version (document_id, version, action, status, title, content_type,
            content, sha256, by_user, by_role, by_org, recorded_at)
         VALUES ($1, 1, 'created', 'draft', $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            id.into(),
            d.title.clone().into(),
            d.content.content_type.into(),
            d.content.bytes.clone().into(),
            d.content.sha256().into(),
            by.user.clone().into(),
            by.role.clone().into(),
            by.org.clone().into(),
            now.into(),
        ],
    ))
    .await?;
    Ok((document(txn, DocumentId::from(id), false).await?, true))
}
