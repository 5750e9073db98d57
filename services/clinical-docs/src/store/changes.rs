//! Every change to a document is a new version, made only against the version the caller
//! read (`If-Match`): edits of a draft, the author's signature, a countersignature, an
//! amendment of a signed document (with a reason), and an entered-in-error mark (with a
//! reason, the content kept). The document's row is locked, its version compared, the next
//! version written; a caller who read an older version is answered the current one.
use super::documents::{document, Author, Document, WORDS};
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{Content, DocumentId, Reason, Status};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

/// What a change does.
#[derive(Debug, Clone)]
pub enum Change {
    /// A draft's new title or content.
    Edit {
        title: Option<String>,
        content: Content,
    },
    /// The author signs: final, or awaiting a countersignature if the type asks for one.
    Sign,
    Countersign,
    /// A signed document's correction, with why.
    Amend {
        title: Option<String>,
        content: Content,
        reason: Reason,
    },
    /// Should never have been written: flagged, content kept.
    EnteredInError {
        reason: Reason,
    },
    /// An assessment's answers to one section (the whole structured body, rebuilt).
    Section {
        content: Content,
    },
    /// Content attached to a draft: the text stays, the version records it.
    Attach,
    /// One section of an assessment signed by its author; `complete` when that made every
    /// required section signed: the assessment is final.
    SectionSigned {
        content: Content,
        complete: bool,
    },
}

impl Change {
    pub fn action(&self) -> &'static str {
        match self {
            Self::Edit { .. } => "edited",
            Self::Sign => "signed",
            Self::Countersign => "countersigned",
            Self::Amend { .. } => "amended",
            Self::EnteredInError { .. } => "entered-in-error",
            Self::Section { .. } => "edited",
            Self::Attach => "attached",
            Self::SectionSigned { .. } => "section-signed",
        }
    }
}

/// How a change ended: applied, or refused because the caller's version is not the newest
/// (with the newest, for the 412).
pub enum Applied {
    Changed(Document),
    Stale(Document),
}

/// What the next version will be, from the current one and the change, or why not.
struct Next {
    status: Status,
    title: String,
    content: Option<Content>,
    reason: Option<String>,
    signed: bool,
    countersigned: bool,
}

fn next(d: &Document, change: &Change, by: &Author) -> Result<Next, StoreError> {
    let status = Status::parse(&d.status)?;
    let awaiting = d.signed_by.is_some() && status == Status::Draft;
    let keep = |status| Next {
        status,
        title: d.title.clone(),
        content: None,
        reason: None,
        signed: false,
        countersigned: false,
    };
    match change {
        Change::Edit { title, content } => {
            if status != Status::Draft {
                return Err(conflict(
                    errors::SIGNED,
                    "a signed document changes only by amendment, with a reason",
                ));
            }
            if awaiting {
                return Err(conflict(
                    errors::AWAITING_COUNTERSIGNATURE,
                    "signed by its author, awaiting a countersignature: not editable",
                ));
            }
            Ok(Next {
                title: title.clone().unwrap_or_else(|| d.title.clone()),
                content: Some(content.clone()),
                ..keep(Status::Draft)
            })
        }
        Change::Sign => {
            if status != Status::Draft || awaiting {
                return Err(conflict(errors::ALREADY_SIGNED, "already signed"));
            }
            if by.user != d.author_user {
                return Err(conflict(
                    errors::NOT_AUTHOR,
                    "only the author signs a document off",
                ));
            }
            let status = if d.countersign {
                Status::Draft
            } else {
                Status::Final
            };
            Ok(Next {
                signed: true,
                ..keep(status)
            })
        }
        Change::Countersign => {
            if !d.countersign {
                return Err(conflict(
                    errors::NO_COUNTERSIGNATURE,
                    "this document type needs no countersignature",
                ));
            }
            if !awaiting {
                return Err(conflict(
                    errors::NOT_AWAITING,
                    "countersigned after the author signs, once",
                ));
            }
            if by.user == d.author_user {
                return Err(conflict(
                    errors::COUNTERSIGN_SELF,
                    "the author cannot countersign their own document",
                ));
            }
            if d.countersigner.as_ref().is_some_and(|c| c != &by.user) {
                return Err(conflict(
                    errors::NOT_COUNTERSIGNER,
                    "another clinician is named to countersign",
                ));
            }
            Ok(Next {
                countersigned: true,
                ..keep(Status::Final)
            })
        }
        Change::Amend {
            title,
            content,
            reason,
        } => {
            if !status.signed() {
                return Err(conflict(
                    errors::NOT_SIGNED,
                    "a draft is edited, not amended; an entered-in-error document is not changed",
                ));
            }
            Ok(Next {
                title: title.clone().unwrap_or_else(|| d.title.clone()),
                content: Some(content.clone()),
                reason: Some(reason.as_str().to_string()),
                ..keep(Status::Amended)
            })
        }
        Change::Attach => {
            if status != Status::Draft || awaiting {
                return Err(conflict(
                    errors::SIGNED,
                    "attach to a draft; a signed document is amended",
                ));
            }
            Ok(keep(Status::Draft))
        }
        Change::Section { content } => {
            if status != Status::Draft {
                return Err(conflict(
                    errors::SIGNED,
                    "a final assessment changes only by amendment, with a reason",
                ));
            }
            Ok(Next {
                content: Some(content.clone()),
                ..keep(Status::Draft)
            })
        }
        Change::SectionSigned { content, complete } => {
            if status != Status::Draft {
                return Err(conflict(
                    errors::ALREADY_SIGNED,
                    "the assessment is final already",
                ));
            }
            let status = if *complete {
                Status::Final
            } else {
                Status::Draft
            };
            Ok(Next {
                content: Some(content.clone()),
                signed: *complete,
                ..keep(status)
            })
        }
        Change::EnteredInError { reason } => {
            if status == Status::EnteredInError {
                return Err(conflict(
                    errors::ENTERED_IN_ERROR,
                    "already marked entered in error",
                ));
            }
            Ok(Next {
                reason: Some(reason.as_str().to_string()),
                ..keep(Status::EnteredInError)
            })
        }
    }
}

/// Applies `change` to `d` — read under its row lock in this transaction
/// (`document(txn, id, true)`) — if `expected` is its newest version: the next version is
/// written, the document moves to it.
pub async fn apply(
    txn: &DatabaseTransaction,
    d: Document,
    expected: i32,
    change: &Change,
    by: &Author,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let id = DocumentId::from(d.id);
    if d.version != expected {
        return Ok(Applied::Stale(d));
    }
    let n = next(&d, change, by)?;
    let v = d.version + 1;
    let (content_type, bytes, sha) = match &n.content {
        Some(c) => (c.content_type.to_string(), c.bytes.clone(), c.sha256()),
        None => (d.content_type.clone(), d.content.clone(), d.sha256.clone()),
    };
    txn.execute(stmt(
        "INSERT INTO document_version (document_id, version, action, status, title, content_type,
            content, sha256, by_user, by_role, by_org, reason, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        vec![
            id.as_uuid().into(),
            v.into(),
            change.action().into(),
            n.status.as_str().into(),
            n.title.clone().into(),
            content_type.into(),
            bytes.clone().into(),
            sha.into(),
            by.user.clone().into(),
            by.role.clone().into(),
            by.org.clone().into(),
            n.reason.into(),
            now.into(),
        ],
    ))
    .await?;
    let words = String::from_utf8_lossy(&bytes).into_owned();
    txn.execute(stmt(
        &format!(
            "UPDATE document SET version = $3, status = $4, title = $1, updated_at = $5,
                signed_by = CASE WHEN $6 THEN $8 ELSE signed_by END,
                signed_at = CASE WHEN $6 THEN $5 ELSE signed_at END,
                countersigned_by = CASE WHEN $7 THEN $8 ELSE countersigned_by END,
                countersigned_at = CASE WHEN $7 THEN $5 ELSE countersigned_at END,
                words = {WORDS}
              WHERE id = $9"
        ),
        vec![
            n.title.into(),
            words.into(),
            v.into(),
            n.status.as_str().into(),
            now.into(),
            n.signed.into(),
            n.countersigned.into(),
            by.user.clone().into(),
            id.as_uuid().into(),
        ],
    ))
    .await?;
    Ok(Applied::Changed(document(txn, id, false).await?))
}
