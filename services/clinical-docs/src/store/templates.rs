//! The trust's document types and its templates. A template version is written once: saving
//! a template under a code it already has makes the next version, and the versions before it
//! stay as they were for the assessments made with them.
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::template::{Definition, NewTemplate};
use crate::domain::{DocType, TemplateId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct DocumentType {
    pub code: String,
    pub display: String,
    pub countersign: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub id: Uuid,
    pub code: String,
    pub version: i32,
    pub type_code: String,
    #[schema(value_type = Object)]
    pub definition: Definition,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    code: String,
    version: i32,
    type_code: String,
    definition: serde_json::Value,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Template {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let definition = serde_json::from_value(r.definition).map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!("template {}: {e}", r.id)))
        })?;
        Ok(Self {
            id: r.id,
            code: r.code,
            version: r.version,
            type_code: r.type_code,
            definition,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

pub async fn put_type(
    txn: &DatabaseTransaction,
    t: &DocType,
    countersign: bool,
) -> Result<DocumentType, StoreError> {
    DocumentType::find_by_statement(stmt(
        "INSERT INTO document_type (code, display, countersign) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET display = EXCLUDED.display, countersign = EXCLUDED.countersign
         RETURNING code, display, countersign",
        vec![t.code.as_str().into(), t.display.clone().into(), countersign.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn types(txn: &DatabaseTransaction) -> Result<Vec<DocumentType>, StoreError> {
    Ok(DocumentType::find_by_statement(stmt(
        "SELECT code, display, countersign FROM document_type ORDER BY code",
        vec![],
    ))
    .all(txn)
    .await?)
}

const COLUMNS: &str = "SELECT id, code, version, doc_type AS type_code, definition, created_by, created_at FROM template";

/// Saves `t` as the next version of its code (1 for a new code).
pub async fn save(
    txn: &DatabaseTransaction,
    t: &NewTemplate,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Template, StoreError> {
    let known = txn
        .query_one(stmt(
            "SELECT 1 AS x FROM document_type WHERE code = $1",
            vec![t.doc_type.code.as_str().into()],
        ))
        .await?;
    if known.is_none() {
        return Err(conflict(
            errors::TYPE_UNKNOWN,
            format!("the trust has no document type {}", t.doc_type.code),
        ));
    }
    // Two saves of one code at once: the second waits, then takes the next number.
    txn.execute(stmt(
        "SELECT pg_advisory_xact_lock(hashtext('template:' || $1))",
        vec![t.code.clone().into()],
    ))
    .await?;
    let definition = serde_json::to_value(&t.definition)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    let row = Row::find_by_statement(stmt(
        "INSERT INTO template (id, code, version, doc_type, definition, created_by, created_at)
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6 FROM template WHERE code = $2
         RETURNING id, code, version, doc_type AS type_code, definition, created_by, created_at",
        vec![
            TemplateId::new().as_uuid().into(),
            t.code.clone().into(),
            t.doc_type.code.as_str().into(),
            definition.into(),
            by.into(),
            now.into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    row.try_into()
}

/// The newest version of every template.
pub async fn latest(txn: &DatabaseTransaction) -> Result<Vec<Template>, StoreError> {
    let rows = Row::find_by_statement(stmt(
        &format!("{COLUMNS} t WHERE version = (SELECT max(version) FROM template o WHERE o.code = t.code) ORDER BY code"),
        vec![],
    ))
    .all(txn)
    .await?;
    rows.into_iter().map(Template::try_from).collect()
}

pub async fn by_id(txn: &DatabaseTransaction, id: TemplateId) -> Result<Template, StoreError> {
    Row::find_by_statement(stmt(
        &format!("{COLUMNS} WHERE id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// A template's version `n`, or its newest.
pub async fn by_code(
    txn: &DatabaseTransaction,
    code: &str,
    n: Option<i32>,
) -> Result<Template, StoreError> {
    Row::find_by_statement(stmt(
        &format!("{COLUMNS} WHERE code = $1 AND ($2::int IS NULL OR version = $2) ORDER BY version DESC LIMIT 1"),
        vec![code.into(), n.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// Every version of a template, oldest first.
pub async fn versions(txn: &DatabaseTransaction, code: &str) -> Result<Vec<Template>, StoreError> {
    let rows = Row::find_by_statement(stmt(
        &format!("{COLUMNS} WHERE code = $1 ORDER BY version"),
        vec![code.into()],
    ))
    .all(txn)
    .await?;
    rows.into_iter().map(Template::try_from).collect()
}
