//! Teams and their members (published: every service's projection resolves a team's
//! relationships to its members).
use super::{publish, StoreError};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_access::projection::types;
use tessera_bootstrap::TraceContext;
use tessera_proto::access::v1 as pb;
use tessera_tenancy::{stmt, TenantId};

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
