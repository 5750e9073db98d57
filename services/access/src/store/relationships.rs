//! Legitimate relationships: granted (by hand or by a care event), ended, listed; each change
//! published for every service's projection.
use super::{publish, rfc3339, StoreError};
use crate::domain::RelationshipId;
use chrono::{DateTime, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_access::projection::types;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
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
    pub patient_id: PatientId,
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
            n.patient_id.to_string().into(),
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
    id: RelationshipId,
    at: DateTime<Utc>,
    reason: &str,
    trace: Option<&TraceContext>,
) -> Result<Relationship, StoreError> {
    let r = Relationship::find_by_statement(stmt(
        &format!(
            "UPDATE relationship SET ends_at = least(coalesce(ends_at, $2), $2), ended_reason = $3
             WHERE id = $1 RETURNING {REL_COLUMNS}"
        ),
        vec![id.as_uuid().into(), at.into(), reason.into()],
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
    patient_id: &PatientId,
) -> Result<Vec<Relationship>, StoreError> {
    Ok(Relationship::find_by_statement(stmt(
        &format!(
            "SELECT {REL_COLUMNS} FROM relationship WHERE patient_id = $1 ORDER BY starts_at, id"
        ),
        vec![patient_id.to_string().into()],
    ))
    .all(db)
    .await?)
}
