//! Break-glass grants and the privacy officer's alert queue.
use super::{publish, rfc3339, StoreError};
use crate::domain::AlertId;
use chrono::{DateTime, Duration, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_access::projection::types;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
use tessera_proto::access::v1 as pb;
use tessera_tenancy::{stmt, TenantId};
use uuid::Uuid;

pub struct NewBreakGlass {
    pub patient_id: PatientId,
    pub user_id: String,
    pub role_code: String,
    pub reason_code: String,
    pub justification: String,
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct BreakGlassGrant {
    pub id: Uuid,
    pub patient_id: String,
    pub user_id: String,
    pub reason_code: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub kind: String,
    pub grant_id: Uuid,
    pub patient_id: String,
    pub user_id: String,
    pub role_code: String,
    pub reason_code: String,
    pub justification: String,
    pub raised_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub notes: serde_json::Value,
}

const ALERT_COLUMNS: &str = "a.id, a.kind, a.grant_id, a.patient_id, a.user_id, a.role_code, a.reason_code,
    a.justification, a.raised_at, a.expires_at, a.acknowledged_at, a.acknowledged_by,
    coalesce((SELECT json_agg(json_build_object('author', n.author, 'note', n.note, 'at', n.at) ORDER BY n.id)
                FROM alert_note n WHERE n.alert_id = a.id), '[]'::json) AS notes";

/// Raises an alert for the privacy officer: a row in the queue and an event on
/// `tessera.<ods>.access.alerts`, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn raise_alert(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    kind: &str,
    grant_id: Uuid,
    patient_id: &PatientId,
    user_id: &str,
    role_code: &str,
    reason_code: &str,
    justification: &str,
    expires_at: Option<DateTime<Utc>>,
    trace: Option<&TraceContext>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    txn.execute(stmt(
        "INSERT INTO alert (id, kind, grant_id, patient_id, user_id, role_code, reason_code,
                            justification, raised_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            id.into(),
            kind.into(),
            grant_id.into(),
            patient_id.to_string().into(),
            user_id.into(),
            role_code.into(),
            reason_code.into(),
            justification.into(),
            now.into(),
            expires_at.into(),
        ],
    ))
    .await?;
    let payload = pb::AccessAlert {
        id: id.to_string(),
        grant_id: grant_id.to_string(),
        patient_id: patient_id.to_string(),
        user_id: user_id.to_string(),
        role_code: role_code.to_string(),
        reason_code: reason_code.to_string(),
        justification: justification.to_string(),
        raised_at: rfc3339(now),
        expires_at: expires_at.map(rfc3339).unwrap_or_default(),
        kind: kind.to_string(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "alerts",
        &patient_id.to_string(),
        types::ACCESS_ALERT,
        payload,
        trace,
    )
    .await?;
    Ok(id)
}

/// Grants break-glass at once, publishes the grant for every projection, and raises the alert.
pub async fn grant_break_glass(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    n: NewBreakGlass,
    trace: Option<&TraceContext>,
) -> Result<(BreakGlassGrant, Uuid), StoreError> {
    let now = Utc::now();
    let g = BreakGlassGrant::find_by_statement(stmt(
        "INSERT INTO break_glass (id, patient_id, user_id, role_code, reason_code, justification,
                                  granted_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, patient_id, user_id, reason_code, granted_at, expires_at",
        vec![
            Uuid::now_v7().into(),
            n.patient_id.to_string().into(),
            n.user_id.clone().into(),
            n.role_code.clone().into(),
            n.reason_code.clone().into(),
            n.justification.clone().into(),
            now.into(),
            (now + n.duration).into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let payload = pb::BreakGlassGranted {
        id: g.id.to_string(),
        patient_id: g.patient_id.clone(),
        user_id: g.user_id.clone(),
        reason_code: g.reason_code.clone(),
        granted_at: rfc3339(g.granted_at),
        expires_at: rfc3339(g.expires_at),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "relationship",
        &g.patient_id,
        types::BREAK_GLASS_GRANTED,
        payload,
        trace,
    )
    .await?;
    let alert = raise_alert(
        txn,
        tenant,
        "break-glass",
        g.id,
        &n.patient_id,
        &n.user_id,
        &n.role_code,
        &n.reason_code,
        &n.justification,
        Some(g.expires_at),
        trace,
    )
    .await?;
    Ok((g, alert))
}

pub async fn alerts<C: ConnectionTrait>(db: &C, open_only: bool) -> Result<Vec<Alert>, StoreError> {
    Ok(Alert::find_by_statement(stmt(
        &format!(
            "SELECT {ALERT_COLUMNS} FROM alert a
              WHERE NOT $1 OR a.acknowledged_at IS NULL ORDER BY a.raised_at DESC LIMIT 500"
        ),
        vec![open_only.into()],
    ))
    .all(db)
    .await?)
}

pub async fn alert<C: ConnectionTrait>(db: &C, id: AlertId) -> Result<Alert, StoreError> {
    Alert::find_by_statement(stmt(
        &format!("SELECT {ALERT_COLUMNS} FROM alert a WHERE a.id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(db)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn annotate_alert<C: ConnectionTrait>(
    db: &C,
    id: AlertId,
    author: &str,
    note: &str,
) -> Result<Alert, StoreError> {
    alert(db, id).await?;
    db.execute(stmt(
        "INSERT INTO alert_note (alert_id, author, note) VALUES ($1, $2, $3)",
        vec![id.as_uuid().into(), author.into(), note.into()],
    ))
    .await?;
    alert(db, id).await
}

pub async fn acknowledge_alert<C: ConnectionTrait>(
    db: &C,
    id: AlertId,
    by: &str,
    note: Option<&str>,
) -> Result<Alert, StoreError> {
    let done = db
        .execute(stmt(
            "UPDATE alert SET acknowledged_at = now(), acknowledged_by = $2
              WHERE id = $1 AND acknowledged_at IS NULL",
            vec![id.as_uuid().into(), by.into()],
        ))
        .await?
        .rows_affected();
    if done == 0 {
        let a = alert(db, id).await?;
        if a.acknowledged_at.is_some() {
            return Err(StoreError::Conflict(
                crate::api::errors::ALERT_ACKNOWLEDGED,
                "the alert was already acknowledged".into(),
            ));
        }
    }
    match note {
        Some(n) => annotate_alert(db, id, by, n).await,
        None => alert(db, id).await,
    }
}
