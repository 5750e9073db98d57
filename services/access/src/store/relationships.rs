//! Relationships (with their end rules), teams, break-glass grants and the privacy officer's
//! alert queue.
use super::{publish, rfc3339, StoreError};
use chrono::{DateTime, Duration, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_access::projection::types;
use tessera_bootstrap::TraceContext;
use tessera_proto::access::v1 as pb;
use tessera_tenancy::TenantId;
use uuid::Uuid;

use tessera_tenancy::stmt;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Relationship {
    pub id: Uuid,
    pub patient_id: String,
    pub user_id: Option<String>,
    pub team: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub origin: String,
    pub reason_code: Option<String>,
    pub source: Option<String>,
    pub created_by: String,
    pub ended_reason: Option<String>,
}

const REL_COLUMNS: &str = "id, patient_id, user_id, team, starts_at, ends_at, origin, reason_code, source, created_by, ended_reason";

pub struct NewRelationship {
    pub patient_id: String,
    pub user_id: Option<String>,
    pub team: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub origin: &'static str,
    pub reason_code: Option<String>,
    pub justification: Option<String>,
    pub source: Option<String>,
    pub created_by: String,
}

fn granted_event(r: &Relationship) -> Vec<u8> {
    pb::RelationshipGranted {
        id: r.id.to_string(),
        patient_id: r.patient_id.clone(),
        user_id: r.user_id.clone().unwrap_or_default(),
        team: r.team.clone().unwrap_or_default(),
        starts_at: rfc3339(r.starts_at),
        ends_at: r.ends_at.map(rfc3339).unwrap_or_default(),
        origin: r.origin.clone(),
        reason_code: r.reason_code.clone().unwrap_or_default(),
        source: r.source.clone().unwrap_or_default(),
    }
    .encode_to_vec()
}

/// Records a relationship and publishes it.
pub async fn grant_relationship(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    n: NewRelationship,
    trace: Option<&TraceContext>,
) -> Result<Relationship, StoreError> {
    let r = Relationship::find_by_statement(stmt(
        &format!(
            "INSERT INTO relationship (id, patient_id, user_id, team, starts_at, ends_at, origin,
                                       reason_code, justification, source, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {REL_COLUMNS}"
        ),
        vec![
            Uuid::now_v7().into(),
            n.patient_id.into(),
            n.user_id.into(),
            n.team.into(),
            n.starts_at.into(),
            n.ends_at.into(),
            n.origin.into(),
            n.reason_code.into(),
            n.justification.into(),
            n.source.into(),
            n.created_by.into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    publish(
        txn,
        tenant,
        "relationship",
        &r.patient_id,
        types::RELATIONSHIP_GRANTED,
        granted_event(&r),
        trace,
    )
    .await?;
    Ok(r)
}

async fn publish_end(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    r: &Relationship,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    let payload = pb::RelationshipEnded {
        id: r.id.to_string(),
        patient_id: r.patient_id.clone(),
        ends_at: r.ends_at.map(rfc3339).unwrap_or_default(),
        reason: r.ended_reason.clone().unwrap_or_default(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "relationship",
        &r.patient_id,
        types::RELATIONSHIP_ENDED,
        payload,
        trace,
    )
    .await
}

/// Ends one relationship at `at` (never later than an end it already has).
pub async fn end_relationship(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: Uuid,
    at: DateTime<Utc>,
    reason: &str,
    trace: Option<&TraceContext>,
) -> Result<Relationship, StoreError> {
    let r = Relationship::find_by_statement(stmt(
        &format!(
            "UPDATE relationship SET ends_at = least(coalesce(ends_at, $2), $2), ended_reason = $3
             WHERE id = $1 RETURNING {REL_COLUMNS}"
        ),
        vec![id.into(), at.into(), reason.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    publish_end(txn, tenant, &r, trace).await?;
    Ok(r)
}

/// Ends every open relationship `source` created, at `at`: the end rule of a referral,
/// admission or appointment when it closes.
pub async fn end_by_source(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    source: &str,
    at: DateTime<Utc>,
    reason: &str,
    trace: Option<&TraceContext>,
) -> Result<usize, StoreError> {
    let ended = Relationship::find_by_statement(stmt(
        &format!(
            "UPDATE relationship SET ends_at = $2, ended_reason = $3
             WHERE source = $1 AND (ends_at IS NULL OR ends_at > $2) RETURNING {REL_COLUMNS}"
        ),
        vec![source.into(), at.into(), reason.into()],
    ))
    .all(txn)
    .await?;
    for r in &ended {
        publish_end(txn, tenant, r, trace).await?;
    }
    Ok(ended.len())
}

pub async fn relationships_of<C: ConnectionTrait>(
    db: &C,
    patient_id: &str,
) -> Result<Vec<Relationship>, StoreError> {
    Ok(Relationship::find_by_statement(stmt(
        &format!(
            "SELECT {REL_COLUMNS} FROM relationship WHERE patient_id = $1 ORDER BY starts_at, id"
        ),
        vec![patient_id.into()],
    ))
    .all(db)
    .await?)
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Team {
    pub code: String,
    pub name: String,
    pub active: bool,
    pub members: Vec<String>,
}

pub async fn upsert_team<C: ConnectionTrait>(
    db: &C,
    code: &str,
    name: &str,
) -> Result<(), StoreError> {
    db.execute(stmt(
        "INSERT INTO team (code, name) VALUES ($1, $2)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, active = true",
        vec![code.into(), name.into()],
    ))
    .await?;
    Ok(())
}

/// Replaces a team's membership and publishes the new list.
pub async fn set_members(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    code: &str,
    members: &[String],
    trace: Option<&TraceContext>,
) -> Result<Team, StoreError> {
    let exists = txn
        .query_one(stmt(
            "SELECT active FROM team WHERE code = $1 FOR UPDATE",
            vec![code.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let active: bool = exists.try_get("", "active")?;
    txn.execute(stmt(
        "DELETE FROM team_member WHERE team = $1",
        vec![code.into()],
    ))
    .await?;
    txn.execute(stmt(
        "INSERT INTO team_member (team, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        vec![code.into(), members.to_vec().into()],
    ))
    .await?;
    let payload = pb::TeamMembership {
        team: code.to_string(),
        members: members.to_vec(),
        active,
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "relationship",
        code,
        types::TEAM_MEMBERSHIP,
        payload,
        trace,
    )
    .await?;
    teams(txn, Some(code))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

pub async fn teams<C: ConnectionTrait>(
    db: &C,
    code: Option<&str>,
) -> Result<Vec<Team>, StoreError> {
    Ok(Team::find_by_statement(stmt(
        "SELECT t.code, t.name, t.active,
                coalesce(array_agg(m.user_id ORDER BY m.user_id) FILTER (WHERE m.user_id IS NOT NULL), '{}') AS members
           FROM team t LEFT JOIN team_member m ON m.team = t.code
          WHERE $1::text IS NULL OR t.code = $1
          GROUP BY t.code ORDER BY t.code",
        vec![code.map(str::to_string).into()],
    ))
    .all(db)
    .await?)
}

pub struct NewBreakGlass {
    pub patient_id: String,
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
    patient_id: &str,
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
            patient_id.into(),
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
        patient_id,
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
            n.patient_id.clone().into(),
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

pub async fn alert<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Alert, StoreError> {
    Alert::find_by_statement(stmt(
        &format!("SELECT {ALERT_COLUMNS} FROM alert a WHERE a.id = $1"),
        vec![id.into()],
    ))
    .one(db)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn annotate_alert<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    author: &str,
    note: &str,
) -> Result<Alert, StoreError> {
    alert(db, id).await?;
    db.execute(stmt(
        "INSERT INTO alert_note (alert_id, author, note) VALUES ($1, $2, $3)",
        vec![id.into(), author.into(), note.into()],
    ))
    .await?;
    alert(db, id).await
}

pub async fn acknowledge_alert<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    by: &str,
    note: Option<&str>,
) -> Result<Alert, StoreError> {
    let done = db
        .execute(stmt(
            "UPDATE alert SET acknowledged_at = now(), acknowledged_by = $2
              WHERE id = $1 AND acknowledged_at IS NULL",
            vec![id.into(), by.into()],
        ))
        .await?
        .rows_affected();
    if done == 0 {
        let a = alert(db, id).await?;
        if a.acknowledged_at.is_some() {
            return Err(StoreError::Conflict(
                "alert.acknowledged",
                "the alert was already acknowledged".into(),
            ));
        }
    }
    match note {
        Some(n) => annotate_alert(db, id, by, n).await,
        None => alert(db, id).await,
    }
}
