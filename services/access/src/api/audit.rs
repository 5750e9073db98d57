//! The audit store over HTTP, for the privacy officer: search, verify, "who has looked at
//! this patient's record", and FHIR `AuditEvent` search.
use super::support::{patient_id, Caller};
use crate::app::{audited, invalid, refuse};
use crate::store::{self, AuditFilter, StoredAudit};
use actix_web::get;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use tessera_audit::chain::{self, Finding};
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    count: usize,
    records: Vec<StoredAudit>,
}

/// The chain's verdict: intact, or one finding per record that is edited, missing or out of
/// place, and whether the newest published head still matches.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    records: usize,
    /// Hex SHA-256 of the newest link.
    head: Option<String>,
    intact: bool,
    findings: Vec<serde_json::Value>,
    published_head: Option<serde_json::Value>,
    published_heads_checked: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessReport {
    patient_id: String,
    /// Who looked, when and in which role.
    viewers: serde_json::Value,
}

fn time(field: &str, s: Option<&String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| invalid(field, "date-time", "an RFC 3339 date-time")),
    }
}

fn filter(q: &HashMap<String, String>) -> Result<AuditFilter, ApiError> {
    let outcome = q.get("outcome").cloned();
    if outcome
        .as_deref()
        .is_some_and(|o| !["permit", "deny", "error"].contains(&o))
    {
        return Err(invalid("outcome", "code", "permit, deny or error"));
    }
    Ok(AuditFilter {
        patient_id: q.get("patient_id").map(|p| patient_id(p)).transpose()?,
        user_id: q.get("user_id").cloned(),
        from: time("from", q.get("from"))?,
        to: time("to", q.get("to"))?,
        outcome,
        limit: q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(100)
            .clamp(1, 1000),
        event_id: None,
        oldest_first: false,
        offset: 0,
    })
}

#[utoipa::path(
    tag = "audit",
    params(
        ("patient_id" = Option<String>, Query, description = "Records about this patient"),
        ("user_id" = Option<String>, Query, description = "Records of this user"),
        ("from" = Option<String>, Query, description = "RFC 3339; records at or after"),
        ("to" = Option<String>, Query, description = "RFC 3339; records before"),
        ("outcome" = Option<String>, Query, description = "permit, deny or error"),
        ("limit" = Option<i64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "Matching records, newest first", body = AuditPage))
)]
#[get("/audit")]
pub async fn search(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let f = match filter(&q) {
        Ok(f) => f,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let patient = f.patient_id;
    let rows = audited(&auth, patient, move |txn| {
        Box::pin(async move { store::search_audit(txn, &f).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        count: rows.len(),
        records: rows,
    }))
}

#[utoipa::path(
    tag = "audit",
    responses((status = 200, description = "Whether the trust's chain is intact, and what is not", body = Verification))
)]
#[get("/audit/verify")]
pub async fn verify(
    caller: Caller,
    state: web::Data<super::AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    // The heads published outside the database, read before the stored chain: every record
    // they name must still be stored as it was when published.
    let published = crate::events::heads::published_heads(
        &state.config.kafka,
        &auth.tenant,
        state.config.audit_heads_checked,
    )
    .await;
    let links = audited(&auth, None, |txn| {
        Box::pin(async move { store::audit_links(txn).await })
    })
    .await?;
    // Hashing the whole chain is CPU work of seconds on a large store: off the async
    // workers, so the requests they serve meanwhile are not held up behind it.
    let (links, chain_findings) = web::block(move || {
        let findings = chain::verify(&links);
        (links, findings)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    // One finding per record: a record the chain already names is not named again below.
    let named: std::collections::HashSet<i64> = chain_findings
        .iter()
        .filter_map(|f| match f {
            Finding::Edited { seq } | Finding::OutOfPlace { seq } => Some(*seq),
            Finding::Missing { .. } => None,
        })
        .collect();
    let mut findings: Vec<serde_json::Value> = chain_findings
        .into_iter()
        .map(|f| match f {
            Finding::Edited { seq } => serde_json::json!({ "finding": "edited", "seq": seq }),
            Finding::Missing { from, to } => {
                serde_json::json!({ "finding": "missing", "from": from, "to": to })
            }
            Finding::OutOfPlace { seq } => {
                serde_json::json!({ "finding": "out-of-place", "seq": seq })
            }
        })
        .collect();
    let stored_max = links.last().map(|l| l.seq).unwrap_or(0);
    let heads = match &published {
        Ok(h) => h.as_slice(),
        Err(e) => {
            tracing::warn!(error = %e, "published chain heads not read");
            &[]
        }
    };
    // Removed from the end: a published head beyond the stored chain.
    if let Some(newest) = heads
        .iter()
        .map(|h| h.seq)
        .max()
        .filter(|m| *m > stored_max)
    {
        findings.push(
            serde_json::json!({ "finding": "missing", "from": stored_max + 1, "to": newest }),
        );
    }
    // Rewritten (or removed and appended again): a published head the stored record no
    // longer matches.
    let mut mismatched: Vec<i64> = heads
        .iter()
        .filter(|h| h.seq <= stored_max && !named.contains(&h.seq))
        .filter(|h| {
            links
                .iter()
                .find(|l| l.seq == h.seq)
                .is_some_and(|l| hex::encode(l.hash) != h.hash)
        })
        .map(|h| h.seq)
        .collect();
    mismatched.sort_unstable();
    mismatched.dedup();
    findings.extend(
        mismatched
            .into_iter()
            .map(|seq| serde_json::json!({ "finding": "head-mismatch", "seq": seq })),
    );
    let newest = heads.iter().max_by_key(|h| h.seq).map(
        |h| serde_json::json!({ "seq": h.seq, "hash": h.hash, "published_at": h.published_at }),
    );
    // What the `TesseraAuditChainBroken` alert counts.
    let result = if findings.is_empty() {
        "intact"
    } else {
        "broken"
    };
    state
        .gate
        .metrics
        .audit_chain_verifications
        .with_label_values(&[auth.tenant.as_str(), result])
        .inc();
    Ok(HttpResponse::Ok().json(Verification {
        records: links.len(),
        head: links.last().map(|l| hex::encode(l.hash)),
        intact: findings.is_empty(),
        findings,
        published_head: newest,
        published_heads_checked: published.as_ref().map(|h| h.len()).ok(),
    }))
}

#[utoipa::path(
    tag = "audit",
    params(("patient" = String, Path, description = "The patient")),
    responses((status = 200, description = "Who has looked at the patient's record", body = AccessReport))
)]
#[get("/patients/{patient}/access-report")]
pub async fn who_looked(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let patient = match patient_id(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let pid = patient;
    let report = audited(&auth, Some(patient), move |txn| {
        Box::pin(async move { store::who_looked(txn, &pid).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccessReport {
        patient_id: patient.to_string(),
        viewers: report,
    }))
}

pub(super) fn audit_event(r: &StoredAudit) -> serde_json::Value {
    let outcome = match r.outcome.as_str() {
        "permit" => "0",
        "deny" => "4",
        _ => "8",
    };
    let mut entity = Vec::new();
    if let Some(p) = &r.patient_id {
        entity.push(serde_json::json!({ "what": tessera_fhir::refs::reference("Patient", p) }));
    }
    serde_json::json!({
        "resourceType": "AuditEvent",
        "id": r.event_id,
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest" },
        "subtype": [{ "system": "https://tessera.nhs.uk/CodeSystem/audit-action", "code": r.action }],
        "recorded": r.occurred_at.to_rfc3339(),
        "outcome": outcome,
        "outcomeDesc": r.reason,
        "agent": [{
            "who": { "identifier": { "system": "https://fhir.nhs.uk/Id/sds-user-id", "value": r.user_id } },
            "role": [{ "coding": [{ "system": "https://fhir.nhs.uk/CodeSystem/NHSJobRoleCode", "code": r.role_code }] }],
            "requestor": true,
        }],
        "source": { "observer": { "display": format!("tessera-{}", r.service) } },
        "entity": entity,
    })
}
