//! Seals on items of a patient's record, and the patient's consent directives: nominations
//! ("only Dr X and the sexual health team", recorded as a directive and applied as a seal) and
//! sharing with other trusts.
use super::{publish, rfc3339, StoreError};
use crate::domain::DirectiveId;
use chrono::{DateTime, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::{Deserialize, Serialize};
use tessera_access::projection::types;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
use tessera_proto::access::v1 as pb;
use tessera_tenancy::TenantId;
use uuid::Uuid;

use tessera_tenancy::stmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SealLevel {
    /// Nominated only; break-glass opens it, with an alert.
    Sealed,
    /// Nominated only; nothing opens it.
    Locked,
}

impl SealLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sealed => "sealed",
            Self::Locked => "locked",
        }
    }
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Seal {
    pub patient_id: String,
    pub item: String,
    pub level: String,
    pub users: Vec<String>,
    pub teams: Vec<String>,
    pub directive_id: Option<Uuid>,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

const SEAL_COLUMNS: &str = "patient_id, item, level, users, teams, directive_id, set_by, set_at";

#[allow(clippy::too_many_arguments)]
pub async fn set_seal(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    item: &str,
    level: SealLevel,
    users: &[String],
    teams: &[String],
    directive_id: Option<Uuid>,
    by: &str,
    trace: Option<&TraceContext>,
) -> Result<Seal, StoreError> {
    let seal = Seal::find_by_statement(stmt(
        &format!(
            "INSERT INTO seal (patient_id, item, level, users, teams, directive_id, set_by, set_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())
             ON CONFLICT (patient_id, item) DO UPDATE SET level = EXCLUDED.level,
               users = EXCLUDED.users, teams = EXCLUDED.teams, directive_id = EXCLUDED.directive_id,
               set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
             RETURNING {SEAL_COLUMNS}"
        ),
        vec![
            patient_id.to_string().into(),
            item.into(),
            level.as_str().into(),
            users.to_vec().into(),
            teams.to_vec().into(),
            directive_id.into(),
            by.into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let payload = pb::SealSet {
        patient_id: patient_id.to_string(),
        item: item.to_string(),
        level: match level {
            SealLevel::Sealed => pb::SealLevel::Sealed,
            SealLevel::Locked => pb::SealLevel::SealedAndLocked,
        } as i32,
        users: users.to_vec(),
        teams: teams.to_vec(),
        directive_id: directive_id.map(|d| d.to_string()).unwrap_or_default(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "consent",
        &patient_id.to_string(),
        types::SEAL_SET,
        payload,
        trace,
    )
    .await?;
    Ok(seal)
}

pub async fn remove_seal(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    item: &str,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    let n = txn
        .execute(stmt(
            "DELETE FROM seal WHERE patient_id = $1 AND item = $2",
            vec![patient_id.to_string().into(), item.into()],
        ))
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let payload = pb::SealRemoved {
        patient_id: patient_id.to_string(),
        item: item.to_string(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "consent",
        &patient_id.to_string(),
        types::SEAL_REMOVED,
        payload,
        trace,
    )
    .await
}

pub async fn seals_of<C: ConnectionTrait>(
    db: &C,
    patient_id: &PatientId,
) -> Result<Vec<Seal>, StoreError> {
    Ok(Seal::find_by_statement(stmt(
        &format!("SELECT {SEAL_COLUMNS} FROM seal WHERE patient_id = $1 ORDER BY item"),
        vec![patient_id.to_string().into()],
    ))
    .all(db)
    .await?)
}

/// The patient's nomination: recorded as a consent directive, applied as a seal on `item`.
#[allow(clippy::too_many_arguments)]
pub async fn nominate(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    item: &str,
    level: SealLevel,
    users: &[String],
    teams: &[String],
    by: &str,
    trace: Option<&TraceContext>,
) -> Result<(Uuid, Seal), StoreError> {
    let id = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO consent_directive (id, patient_id, kind, item, level, users, teams, recorded_by)
         VALUES ($1, $2, 'nomination', $3, $4, $5, $6, $7)",
        vec![
            id.into(),
            patient_id.to_string().into(),
            item.into(),
            level.as_str().into(),
            users.to_vec().into(),
            teams.to_vec().into(),
            by.into(),
        ],
    ))
    .await?;
    let seal = set_seal(
        txn,
        tenant,
        patient_id,
        item,
        level,
        users,
        teams,
        Some(id),
        by,
        trace,
    )
    .await?;
    Ok((id, seal))
}

/// Withdraws a directive; a nomination's seal goes with it.
pub async fn withdraw_directive(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    id: DirectiveId,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    let row = txn
        .query_one(stmt(
            "UPDATE consent_directive SET withdrawn_at = now()
              WHERE id = $1 AND patient_id = $2 AND withdrawn_at IS NULL
              RETURNING kind, item",
            vec![id.as_uuid().into(), patient_id.to_string().into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let kind: String = row.try_get("", "kind")?;
    if kind == "nomination" {
        let item: Option<String> = row.try_get("", "item")?;
        let still = txn
            .query_one(stmt(
                "SELECT 1 AS one FROM seal WHERE patient_id = $1 AND item = $2 AND directive_id = $3",
                vec![patient_id.to_string().into(), item.clone().into(), id.as_uuid().into()],
            ))
            .await?
            .is_some();
        if let (true, Some(item)) = (still, item) {
            remove_seal(txn, tenant, patient_id, &item, trace).await?;
        }
    }
    Ok(())
}

/// The patient's directive on other trusts seeing this trust's records: a permit for the
/// trusts named in `trusts` (empty: every trust in the region), or a forbid.
pub async fn set_sharing(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    permit: bool,
    trusts: &[String],
    by: &str,
    trace: Option<&TraceContext>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let sharing = if permit { "permit" } else { "forbid" };
    let named = (permit && !trusts.is_empty()).then(|| trusts.to_vec());
    txn.execute(stmt(
        "INSERT INTO consent_directive (id, patient_id, kind, sharing, recorded_by, recorded_at, trusts)
         VALUES ($1, $2, 'sharing', $3, $4, $5, $6)",
        vec![
            id.into(),
            patient_id.to_string().into(),
            sharing.into(),
            by.into(),
            now.into(),
            named.clone().into(),
        ],
    ))
    .await?;
    txn.execute(stmt(
        "INSERT INTO sharing_consent (patient_id, sharing, recorded_at, trusts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (patient_id) DO UPDATE SET sharing = EXCLUDED.sharing,
             recorded_at = EXCLUDED.recorded_at, trusts = EXCLUDED.trusts",
        vec![
            patient_id.to_string().into(),
            sharing.into(),
            now.into(),
            named.clone().into(),
        ],
    ))
    .await?;
    let payload = pb::SharingConsentSet {
        patient_id: patient_id.to_string(),
        sharing: if permit {
            pb::Sharing::Permit
        } else {
            pb::Sharing::Forbid
        } as i32,
        recorded_at: rfc3339(now),
        trusts: named.unwrap_or_default(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "consent",
        &patient_id.to_string(),
        types::SHARING_CONSENT_SET,
        payload,
        trace,
    )
    .await?;
    Ok(id)
}

/// The patient's directives (newest first) and current sharing.
pub async fn consent_of<C: ConnectionTrait>(
    db: &C,
    patient_id: &PatientId,
) -> Result<serde_json::Value, StoreError> {
    let row = db
        .query_one(stmt(
            "SELECT (SELECT sharing FROM sharing_consent WHERE patient_id = $1) AS sharing,
                    (SELECT to_json(trusts)::text FROM sharing_consent WHERE patient_id = $1) AS trusts,
                    coalesce((SELECT json_agg(json_build_object(
                        'id', id, 'kind', kind, 'sharing', sharing, 'item', item, 'level', level,
                        'users', users, 'teams', teams, 'recorded_by', recorded_by,
                        'recorded_at', recorded_at, 'withdrawn_at', withdrawn_at, 'trusts', trusts) ORDER BY recorded_at DESC)
                      FROM consent_directive WHERE patient_id = $1), '[]'::json)::text AS directives",
            vec![patient_id.to_string().into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let sharing: Option<String> = row.try_get("", "sharing")?;
    let trusts: Option<String> = row.try_get("", "trusts")?;
    let trusts: serde_json::Value = trusts
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let directives: String = row.try_get("", "directives")?;
    let directives: serde_json::Value =
        serde_json::from_str(&directives).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(serde_json::json!({
        "patient_id": patient_id,
        "sharing": sharing.unwrap_or_else(|| "none".into()),
        // The trusts a permit names; null: every trust in the region.
        "trusts": trusts,
        "directives": directives,
    }))
}
