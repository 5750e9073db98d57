//! Enforcement, second part: each service's local copy of what the access service decided —
//! relationships, break-glass grants, team memberships, seals and sharing consent — kept in
//! the service's own tenant schema and fed by `tessera.<ods>.access.relationship` and
//! `tessera.<ods>.access.consent`. A read path asks [`load`] (one statement) and then
//! [`crate::decision::decide`]; it never calls the access service.
//!
//! The projection's age (time since the newest access event or heartbeat it applied) goes into
//! every audit record that consulted it, so a lagging projection is visible after the fact.
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use sea_orm_migration::prelude::*;
mod load;
mod migration;

pub use load::{load, load_in};
pub use migration::{AddConsentTrusts, CreateAccessProjection};
pub use tessera_access_core::view::{PatientAccess, View};
use tessera_events::{ConsumerSpec, Handler, HandlerError, InboundEvent};
use tessera_proto::access::v1 as pb;

/// CloudEvents types on the access topics.
pub mod types {
    pub const RELATIONSHIP_GRANTED: &str = "uk.nhs.tessera.access.RelationshipGranted.v1";
    pub const RELATIONSHIP_ENDED: &str = "uk.nhs.tessera.access.RelationshipEnded.v1";
    pub const BREAK_GLASS_GRANTED: &str = "uk.nhs.tessera.access.BreakGlassGranted.v1";
    pub const TEAM_MEMBERSHIP: &str = "uk.nhs.tessera.access.TeamMembership.v1";
    pub const SEAL_SET: &str = "uk.nhs.tessera.access.SealSet.v1";
    pub const SEAL_REMOVED: &str = "uk.nhs.tessera.access.SealRemoved.v1";
    pub const SHARING_CONSENT_SET: &str = "uk.nhs.tessera.access.SharingConsentSet.v1";
    pub const HEARTBEAT: &str = "uk.nhs.tessera.access.Heartbeat.v1";
    pub const ACCESS_ALERT: &str = "uk.nhs.tessera.access.AccessAlert.v1";
}

/// The consumers a service runs to keep its projection: one per access stream, in consumer
/// groups `<group_prefix>.access-<stream>` (the service's name, normally), for the trusts
/// the deployment serves (`None`: all).
pub fn consumer_specs(
    group_prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> Vec<ConsumerSpec> {
    ["relationship", "consent"]
        .into_iter()
        .map(|stream| ConsumerSpec {
            group: format!("{group_prefix}.access-{stream}"),
            service: "access".into(),
            stream: stream.into(),
            max_attempts: 10,
            only: only.clone(),
        })
        .collect()
}

/// Applies access events to the projection, inside the consumer's inbox transaction.
pub struct ProjectionHandler;

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn bad(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::undecodable("access event", e)
}

async fn exec(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), HandlerError> {
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

impl ProjectionHandler {
    async fn apply(txn: &DatabaseTransaction, event: &InboundEvent) -> Result<(), HandlerError> {
        let p = event.payload.as_slice();
        match event.ce_type.as_str() {
            types::RELATIONSHIP_GRANTED => {
                let m = pb::RelationshipGranted::decode(p).map_err(bad)?;
                let id = uuid::Uuid::parse_str(&m.id).map_err(bad)?;
                let starts = time(&m.starts_at).ok_or_else(|| bad("starts_at"))?;
                exec(
                    txn,
                    "INSERT INTO access_relationship (id, patient_id, user_id, team, starts_at, ends_at, origin)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO UPDATE SET ends_at = EXCLUDED.ends_at",
                    vec![
                        id.into(),
                        m.patient_id.into(),
                        opt(&m.user_id).into(),
                        opt(&m.team).into(),
                        starts.into(),
                        time(&m.ends_at).into(),
                        m.origin.into(),
                    ],
                )
                .await
            }
            types::RELATIONSHIP_ENDED => {
                let m = pb::RelationshipEnded::decode(p).map_err(bad)?;
                let id = uuid::Uuid::parse_str(&m.id).map_err(bad)?;
                let ends = time(&m.ends_at).ok_or_else(|| bad("ends_at"))?;
                exec(
                    txn,
                    "UPDATE access_relationship SET ends_at = $2 WHERE id = $1",
                    vec![id.into(), ends.into()],
                )
                .await
            }
            types::BREAK_GLASS_GRANTED => {
                let m = pb::BreakGlassGranted::decode(p).map_err(bad)?;
                let id = uuid::Uuid::parse_str(&m.id).map_err(bad)?;
                let expires = time(&m.expires_at).ok_or_else(|| bad("expires_at"))?;
                exec(
                    txn,
                    "INSERT INTO access_break_glass (id, patient_id, user_id, expires_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    vec![
                        id.into(),
                        m.patient_id.into(),
                        m.user_id.into(),
                        expires.into(),
                    ],
                )
                .await
            }
            types::TEAM_MEMBERSHIP => {
                let m = pb::TeamMembership::decode(p).map_err(bad)?;
                exec(
                    txn,
                    "DELETE FROM access_team_member WHERE team = $1",
                    vec![m.team.clone().into()],
                )
                .await?;
                if m.active {
                    exec(
                        txn,
                        "INSERT INTO access_team_member (team, user_id)
                         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
                        vec![m.team.into(), m.members.into()],
                    )
                    .await?;
                }
                Ok(())
            }
            types::SEAL_SET => {
                let m = pb::SealSet::decode(p).map_err(bad)?;
                let level = match m.level() {
                    pb::SealLevel::SealedAndLocked => "locked",
                    _ => "sealed",
                };
                exec(
                    txn,
                    "INSERT INTO access_seal (patient_id, item, level, users, teams)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (patient_id, item) DO UPDATE
                       SET level = EXCLUDED.level, users = EXCLUDED.users, teams = EXCLUDED.teams",
                    vec![
                        m.patient_id.into(),
                        m.item.into(),
                        level.into(),
                        m.users.into(),
                        m.teams.into(),
                    ],
                )
                .await
            }
            types::SEAL_REMOVED => {
                let m = pb::SealRemoved::decode(p).map_err(bad)?;
                exec(
                    txn,
                    "DELETE FROM access_seal WHERE patient_id = $1 AND item = $2",
                    vec![m.patient_id.into(), m.item.into()],
                )
                .await
            }
            types::SHARING_CONSENT_SET => {
                let m = pb::SharingConsentSet::decode(p).map_err(bad)?;
                let sharing = match m.sharing() {
                    pb::Sharing::Permit => "permit",
                    pb::Sharing::Forbid => "forbid",
                    pb::Sharing::Unspecified => "none",
                };
                // NULL: every trust in the region.
                let trusts = (!m.trusts.is_empty()).then_some(m.trusts);
                exec(
                    txn,
                    "INSERT INTO access_consent (patient_id, sharing, trusts) VALUES ($1, $2, $3)
                     ON CONFLICT (patient_id) DO UPDATE
                        SET sharing = EXCLUDED.sharing, trusts = EXCLUDED.trusts",
                    vec![m.patient_id.into(), sharing.into(), trusts.into()],
                )
                .await
            }
            // Heartbeats only move the projection's clock; unknown types (added later) too.
            _ => Ok(()),
        }
    }
}

impl Handler for ProjectionHandler {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            Self::apply(txn, event).await?;
            let at = event.time.unwrap_or_else(Utc::now);
            exec(
                txn,
                "INSERT INTO access_projection_state (id, last_event_at) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE
                   SET last_event_at = greatest(access_projection_state.last_event_at, EXCLUDED.last_event_at)",
                vec![at.into()],
            )
            .await
        })
    }
}
