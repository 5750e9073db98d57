//! The audit store: each trust's audit records from every service, appended to a hash chain
//! (`libs/audit::chain`) in arrival order, searchable by patient, user, time and outcome.
use super::StoreError;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;
use tessera_audit::chain::{self, Link};
use tessera_patients::PatientId;
use tessera_proto::audit::v1::AuditRecord;

use tessera_tenancy::stmt;

fn hash32(v: Vec<u8>) -> Result<chain::Hash, StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

/// Takes the tenant's chain lock for the rest of `txn`: one appender per tenant at a time,
/// because the chain has one head. Taken once per transaction, before any [`append_audit`].
pub async fn lock_audit_chain(txn: &DatabaseTransaction) -> Result<(), StoreError> {
    txn.execute(stmt(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_store'))",
        vec![],
    ))
    .await?;
    Ok(())
}

/// Appends one record (its Protobuf bytes as received) after the tenant's newest. A record
/// whose event id is already stored is not appended again. Returns the new sequence number.
/// The caller holds the chain lock ([`lock_audit_chain`]) in `txn`.
pub async fn append_audit(
    txn: &DatabaseTransaction,
    event_id: &str,
    payload: Vec<u8>,
    record: &AuditRecord,
) -> Result<Option<i64>, StoreError> {
    // Whether it is stored already, and the head, in one round trip (one row either way).
    let row = txn
        .query_one(stmt(
            "SELECT (SELECT true FROM audit_store WHERE event_id = $1) AS dup, h.seq, h.hash
               FROM (SELECT 1) AS one
               LEFT JOIN (SELECT seq, hash FROM audit_store ORDER BY seq DESC LIMIT 1) AS h ON true",
            vec![event_id.into()],
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("the audit head query returned no row".into()))?;
    if row.try_get::<Option<bool>>("", "dup")?.unwrap_or(false) {
        return Ok(None);
    }
    let head: Option<i64> = row.try_get("", "seq")?;
    let prev = match head {
        Some(seq) => Some(Link {
            seq,
            event_id: String::new(),
            payload: Vec::new(),
            prev_hash: chain::GENESIS,
            hash: hash32(row.try_get("", "hash")?)?,
        }),
        None => None,
    };
    let link = chain::append(prev.as_ref(), event_id, payload);
    let occurred = DateTime::parse_from_rfc3339(&record.occurred_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    txn.execute(stmt(
        "INSERT INTO audit_store (seq, event_id, payload, prev_hash, hash, occurred_at, service,
                                  user_id, role_code, patient_id, action, outcome, reason, status,
                                  organisation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        vec![
            link.seq.into(),
            link.event_id.clone().into(),
            link.payload.clone().into(),
            link.prev_hash.to_vec().into(),
            link.hash.to_vec().into(),
            occurred.into(),
            record.service.clone().into(),
            record.user_id.clone().into(),
            record.role_code.clone().into(),
            opt(&record.patient_id).into(),
            record.action.clone().into(),
            record.outcome.clone().into(),
            record.reason.clone().into(),
            record.status.into(),
            opt(&record.organisation).into(),
        ],
    ))
    .await?;
    Ok(Some(link.seq))
}

/// Every stored link of the tenant, in sequence order, for `chain::verify`.
pub async fn audit_links<C: ConnectionTrait>(db: &C) -> Result<Vec<Link>, StoreError> {
    let rows = db
        .query_all(stmt(
            "SELECT seq, event_id, payload, prev_hash, hash FROM audit_store ORDER BY seq",
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Link {
                seq: r.try_get("", "seq")?,
                event_id: r.try_get("", "event_id")?,
                payload: r.try_get("", "payload")?,
                prev_hash: hash32(r.try_get("", "prev_hash")?)?,
                hash: hash32(r.try_get("", "hash")?)?,
            })
        })
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub patient_id: Option<PatientId>,
    pub user_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub limit: i64,
    /// One record by its event id (FHIR `_id`).
    pub event_id: Option<String>,
    /// Oldest first (FHIR `_sort=date`); newest first otherwise.
    pub oldest_first: bool,
    /// Records skipped before this page.
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct StoredAudit {
    pub seq: i64,
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub user_id: String,
    pub role_code: String,
    /// The user's organisation (ODS code): another trust's for a regional read.
    pub organisation: Option<String>,
    pub patient_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub reason: String,
    pub status: i32,
}

const AUDIT_FILTER: &str = "($1::text IS NULL OR patient_id = $1)
            AND ($2::text IS NULL OR user_id = $2)
            AND ($3::timestamptz IS NULL OR occurred_at >= $3)
            AND ($4::timestamptz IS NULL OR occurred_at < $4)
            AND ($5::text IS NULL OR outcome = $5)
            AND ($6::text IS NULL OR event_id = $6)";

fn filter_values(f: &AuditFilter) -> Vec<Value> {
    vec![
        f.patient_id.map(|p| p.to_string()).into(),
        f.user_id.clone().into(),
        f.from.into(),
        f.to.into(),
        f.outcome.clone().into(),
        f.event_id.clone().into(),
    ]
}

/// One page of the records `f` matches, newest (or oldest) first.
pub async fn search_audit<C: ConnectionTrait>(
    db: &C,
    f: &AuditFilter,
) -> Result<Vec<StoredAudit>, StoreError> {
    let order = if f.oldest_first { "ASC" } else { "DESC" };
    let mut values = filter_values(f);
    values.push(f.limit.into());
    values.push(f.offset.into());
    Ok(StoredAudit::find_by_statement(stmt(
        &format!(
            "SELECT seq, event_id, occurred_at, service, user_id, role_code, organisation, patient_id, action,
                    outcome, reason, status
               FROM audit_store WHERE {AUDIT_FILTER}
              ORDER BY occurred_at {order}, seq {order}
              LIMIT $7 OFFSET $8"
        ),
        values,
    ))
    .all(db)
    .await?)
}

/// How many records `f` matches in all.
pub async fn count_audit<C: ConnectionTrait>(db: &C, f: &AuditFilter) -> Result<i64, StoreError> {
    let row = db
        .query_one(stmt(
            &format!("SELECT count(*) AS n FROM audit_store WHERE {AUDIT_FILTER}"),
            filter_values(f),
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// "Who has looked at this patient's record": each user, role and organisation (another
/// trust's users through the regional record too), how often, when first and last, with what
/// actions and outcomes.
pub async fn who_looked<C: ConnectionTrait>(
    db: &C,
    patient_id: &PatientId,
) -> Result<serde_json::Value, StoreError> {
    let row = db
        .query_one(stmt(
            "SELECT coalesce(json_agg(x ORDER BY x.last_at DESC), '[]'::json)::text AS report FROM (
               SELECT user_id, role_code, organisation, count(*) AS requests,
                      min(occurred_at) AS first_at, max(occurred_at) AS last_at,
                      array_agg(DISTINCT action) AS actions,
                      array_agg(DISTINCT outcome) AS outcomes,
                      array_agg(DISTINCT service) AS services,
                      bool_or(reason = 'ok-break-glass') AS used_break_glass
                 FROM audit_store WHERE patient_id = $1
                GROUP BY user_id, role_code, organisation) x",
            vec![patient_id.to_string().into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let text: String = row.try_get("", "report")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}
