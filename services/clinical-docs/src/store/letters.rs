//! Letters made from what happened elsewhere — an outpatient outcome, a discharge — drafted
//! once per source from the trust's wording, addressed to the patient's registered GP
//! practice; and a letter's final version rendered for sending (PDF, once per version),
//! with `LetterReady` for the integrators who send it.
use super::documents::{create, Author, Document};
use super::events::Publish;
use super::{stmt, StoreError};
use crate::domain::letter::{fill, render, Sheet};
use crate::domain::{Content, Context, DocType, NewDocument};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What a letter needs of the patient: NHS number and GP practice (empty when unknown).
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct Detail {
    pub nhs_number: String,
    pub gp_practice: String,
}

pub async fn detail(txn: &DatabaseTransaction, patient: &str) -> Result<Detail, StoreError> {
    Ok(Detail::find_by_statement(stmt(
        "SELECT nhs_number, gp_practice FROM patient_detail WHERE patient_id = $1",
        vec![patient.into()],
    ))
    .one(txn)
    .await?
    .unwrap_or_default())
}

/// Keeps the newest of the MPI's versions of a patient's letter details.
pub async fn set_detail(
    txn: &DatabaseTransaction,
    patient: &str,
    d: &Detail,
    version: i64,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO patient_detail (patient_id, nhs_number, gp_practice, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (patient_id) DO UPDATE SET nhs_number = EXCLUDED.nhs_number,
             gp_practice = EXCLUDED.gp_practice, version = EXCLUDED.version
          WHERE patient_detail.version < EXCLUDED.version",
        vec![patient.into(), d.nhs_number.clone().into(), d.gp_practice.clone().into(), version.into()],
    ))
    .await?;
    Ok(())
}

/// A letter to draft: its kind's wording, filled with `values`.
pub struct Draft {
    /// `clinic-letter` or `discharge-summary`.
    pub kind: &'static str,
    pub doc_type: (&'static str, &'static str),
    pub patient_id: tessera_patients::PatientId,
    pub context: Context,
    /// Whose letter it is: the clinician who signs it.
    pub author: String,
    pub source: String,
    pub values: BTreeMap<&'static str, String>,
}

/// Drafts the letter once per source (`None`: already drafted), as the service, for its
/// author to complete and sign.
pub async fn draft(
    txn: &DatabaseTransaction,
    org: &str,
    d: Draft,
    now: DateTime<Utc>,
) -> Result<Option<Document>, StoreError> {
    let wording = txn
        .query_one(stmt(
            "SELECT title, body FROM letter_template WHERE kind = $1",
            vec![d.kind.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let title: String = wording.try_get("", "title")?;
    let body: String = wording.try_get("", "body")?;
    let detail = detail(txn, &d.patient_id.to_string()).await?;
    let mut values = d.values;
    values.insert(
        "nhs_number",
        if detail.nhs_number.is_empty() {
            "not known".into()
        } else {
            detail.nhs_number.clone()
        },
    );
    values.insert("gp_practice", detail.gp_practice.clone());
    let text = fill(&body, &values);
    let new = NewDocument {
        patient_id: d.patient_id,
        doc_type: DocType::parse(d.doc_type.0, d.doc_type.1)?,
        title,
        content: Content::text(None, &text)?,
        context: Some(d.context),
        countersigner: None,
        source: Some(d.source),
        letter_to: Some(detail.gp_practice),
    };
    let author = Author {
        user: d.author,
        role: "R8000".into(),
        org: org.into(),
    };
    let by = Author {
        user: "system:clinical-docs".into(),
        role: "system".into(),
        org: org.into(),
    };
    let (doc, created) = create(txn, &new, None, &author, &by, now).await?;
    Ok(created.then_some(doc))
}

/// A letter's version just made final (signed, countersigned or amended): rendered and
/// announced, once.
pub async fn render_if_final(
    txn: &DatabaseTransaction,
    doc: &Document,
    events: &Publish,
    trust: &str,
) -> Result<(), StoreError> {
    let Some(to) = &doc.letter_to else {
        return Ok(());
    };
    if doc.status != "final" && doc.status != "amended" {
        return Ok(());
    }
    let detail = detail(txn, &doc.patient_id).await?;
    let text = String::from_utf8_lossy(&doc.content);
    let mut heading = vec![
        ("Trust".to_string(), trust.to_string()),
        (
            "To GP practice".to_string(),
            if to.is_empty() {
                "none registered".into()
            } else {
                to.clone()
            },
        ),
        (
            "NHS number".to_string(),
            if detail.nhs_number.is_empty() {
                "not known".into()
            } else {
                detail.nhs_number
            },
        ),
        (
            "Signed by".to_string(),
            doc.signed_by.clone().unwrap_or_default(),
        ),
    ];
    if let Some(c) = &doc.countersigned_by {
        heading.push(("Countersigned by".into(), c.clone()));
    }
    heading.push((
        "Version".into(),
        format!(
            "{} ({}, {})",
            doc.version,
            doc.status,
            doc.updated_at.format("%Y-%m-%d %H:%M UTC")
        ),
    ));
    let pdf = render(&Sheet {
        title: &doc.title,
        heading,
        text: &text,
    });
    let sha = hex::encode(Sha256::digest(&pdf));
    let inserted = txn
        .execute(stmt(
            "INSERT INTO rendering (document_id, version, pdf, sha256, rendered_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            vec![doc.id.into(), doc.version.into(), pdf.into(), sha.clone().into(), doc.updated_at.into()],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        events.letter_ready(txn, doc, to, &sha).await?;
    }
    Ok(())
}

/// The rendered PDF of a letter's version.
pub async fn pdf(
    txn: &DatabaseTransaction,
    id: uuid::Uuid,
    version: i32,
) -> Result<Vec<u8>, StoreError> {
    let row = txn
        .query_one(stmt(
            "SELECT pdf FROM rendering WHERE document_id = $1 AND version = $2",
            vec![id.into(), version.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get::<Vec<u8>>("", "pdf")?)
}
