//! The matcher's proposals that records in two trusts are one person (schema `region`): raised
//! by the patient consumer when a record without a verified NHS number scores at least the
//! review threshold against another trust's, decided by a person in either trust. A proposal
//! carries each field's level and weight, never the other trust's values.
use super::{stmt, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A candidate from another trust: its patient id and what the matcher compares.
pub struct Candidate {
    pub tenant: String,
    pub patient_id: String,
    pub person: tessera_matching::Person,
}

/// The trusts' schemas that hold projections, except `tenant`'s: where candidates live.
async fn other_schemas(txn: &DatabaseTransaction, tenant: &str) -> Result<Vec<String>, DbErr> {
    let own = format!("t_{}", tenant.to_lowercase());
    let rows = txn
        .query_all(stmt(
            "SELECT table_schema FROM information_schema.tables
              WHERE table_name = 'reg_patient' AND table_schema LIKE 't\\_%' AND table_schema <> $1",
            vec![own.into()],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "table_schema").ok())
        // A schema name goes into the SQL text: only names this service makes.
        .filter(|s| {
            s.len() > 2
                && s[2..]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        .collect())
}

/// Other trusts' live records born on `birth`, at most `per_trust` from each of the trusts
/// `served` (`None`: every trust with projections here).
pub async fn candidates(
    txn: &DatabaseTransaction,
    tenant: &str,
    served: Option<&[tessera_tenancy::TenantId]>,
    birth: chrono::NaiveDate,
    per_trust: u64,
) -> Result<Vec<Candidate>, DbErr> {
    let mut out = Vec::new();
    let schemas = other_schemas(txn, tenant)
        .await?
        .into_iter()
        .filter(|s| served.is_none_or(|only| only.iter().any(|t| &t.schema() == s)));
    for schema in schemas {
        let rows = txn
            .query_all(stmt(
                &format!(
                    "SELECT patient_id, given, family, birth_date, sex, address, postcode, nhs_number
                       FROM \"{schema}\".reg_patient
                      WHERE birth_date = $1 AND merged_into IS NULL LIMIT $2"
                ),
                vec![birth.into(), (per_trust as i64).into()],
            ))
            .await?;
        let ods = schema[2..].to_uppercase();
        for r in rows {
            let s = |c: &str| r.try_get::<Option<String>>("", c).ok().flatten();
            let (given, family, sex, address, postcode, nhs) = (
                s("given"),
                s("family"),
                s("sex"),
                s("address"),
                s("postcode"),
                s("nhs_number"),
            );
            let birth_date = r
                .try_get::<Option<chrono::NaiveDate>>("", "birth_date")
                .ok()
                .flatten()
                .map(tessera_matching::BirthDate::from);
            let person = tessera_matching::Person::new(tessera_matching::PersonInput {
                given: given.as_deref(),
                family: family.as_deref(),
                birth_date,
                sex: sex.as_deref(),
                address: address.as_deref(),
                postcode: postcode.as_deref(),
                national_id: nhs.as_deref(),
            });
            out.push(Candidate {
                tenant: ods.clone(),
                patient_id: r.try_get("", "patient_id")?,
                person,
            });
        }
    }
    Ok(out)
}

/// Raises a proposal (once per pair).
pub async fn raise(
    txn: &DatabaseTransaction,
    a: (&str, &str),
    b: (&str, &str),
    score: f64,
    explanation: serde_json::Value,
) -> Result<(), DbErr> {
    txn.execute(stmt(
        "INSERT INTO region.link_review (id, a_tenant, a_patient, b_tenant, b_patient, score, explanation, raised_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        vec![
            Uuid::now_v7().into(),
            a.0.into(),
            a.1.into(),
            b.0.into(),
            b.1.into(),
            score.into(),
            explanation.into(),
            Utc::now().into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// One field of a proposal's explanation (the document's shape of `Review::explanation`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldLevel {
    /// e.g. `given_name`, `birth_date`.
    pub field: String,
    /// The comparison's level, e.g. `exact`, `phonetic`, `missing`.
    pub level: String,
    /// Its weight in bits (negative against a match).
    pub weight: f64,
}

/// A proposal as the trust on either side sees it: its own record's id, the other trust and
/// the other record's id, the score and each field's level.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct Review {
    pub id: Uuid,
    pub a_tenant: String,
    pub a_patient: String,
    pub b_tenant: String,
    pub b_patient: String,
    pub score: f64,
    /// Each field's level and weight (bits), as the matcher scored it.
    #[schema(value_type = Vec<FieldLevel>)]
    pub explanation: serde_json::Value,
    pub status: String,
    pub raised_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, a_tenant, a_patient, b_tenant, b_patient, score, explanation, status,
                       raised_at, decided_by, decided_at";

/// The open proposals that involve `tenant`'s records, oldest first.
pub async fn open_for<C: ConnectionTrait>(
    db: &C,
    tenant: &str,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    Review::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM region.link_review
              WHERE status = 'open' AND (a_tenant = $1 OR b_tenant = $1)
              ORDER BY raised_at LIMIT $2"
        ),
        vec![tenant.into(), (limit as i64).into()],
    ))
    .all(db)
    .await
}

/// A person in `tenant` confirms (the two records become one person) or rejects a proposal
/// that involves their trust's record.
pub async fn decide(
    txn: &DatabaseTransaction,
    id: Uuid,
    tenant: &str,
    confirm: bool,
    by: &str,
) -> Result<Review, StoreError> {
    let r = Review::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM region.link_review
              WHERE id = $1 AND (a_tenant = $2 OR b_tenant = $2) FOR UPDATE"
        ),
        vec![id.into(), tenant.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if r.status != "open" {
        return Err(StoreError::Conflict(
            crate::api::errors::DECIDED,
            format!("this proposal was {} already", r.status),
        ));
    }
    if confirm {
        let a = super::index::person_of(txn, &r.a_tenant, &r.a_patient).await?;
        let b = super::index::person_of(txn, &r.b_tenant, &r.b_patient).await?;
        let (Some(a), Some(b)) = (a, b) else {
            return Err(StoreError::Conflict(
                crate::api::errors::GONE,
                "one of the two records has left the index (merged away)".into(),
            ));
        };
        super::index::join(txn, b, a, "review", None).await?;
    }
    let status = if confirm { "confirmed" } else { "rejected" };
    txn.execute(stmt(
        "UPDATE region.link_review SET status = $2, decided_by = $3, decided_org = $4, decided_at = $5
          WHERE id = $1",
        vec![id.into(), status.into(), by.into(), tenant.into(), Utc::now().into()],
    ))
    .await?;
    Ok(Review {
        status: status.into(),
        decided_by: Some(by.into()),
        decided_at: Some(Utc::now()),
        ..r
    })
}
