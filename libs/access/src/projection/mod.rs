//! Enforcement, second part: each service's local copy of what the access service decided —
//! relationships, break-glass grants, team memberships, seals and sharing consent — kept in
//! the service's own tenant schema and fed by `tessera.<ods>.access.relationship` and
//! `tessera.<ods>.access.consent`. A read path asks [`load`] (one statement) and then
//! [`crate::decision::decide`]; it never calls the access service.
//!
//! The projection's age (time since the newest access event or heartbeat it applied) goes into
//! every audit record that consulted it, so a lagging projection is visible after the fact.
use crate::decision::{BreakGlass, Nominated, Relationship, Seal, SharingConsent};
use crate::Identity;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};
use sea_orm_migration::prelude::*;
mod migration;

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

/// Reads what the decisions for `patients` need, for caller `who`, in one statement inside
/// the request's tenant-scoped transaction.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    who: &Identity,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<View, DbErr> {
    load_from(db, None, who, patients, now).await
}

/// As [`load`], naming the trust's schema in the statement (`t_<ods>`, from a `TenantId`)
/// instead of relying on the transaction's `search_path`: for a caller that reads several
/// trusts in one transaction, where each change of the path would drop the connection's
/// cached plan and plan the statement afresh (the regional record: ADR 35).
pub async fn load_in<C: ConnectionTrait>(
    db: &C,
    schema: &str,
    who: &Identity,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<View, DbErr> {
    load_from(db, Some(schema), who, patients, now).await
}

async fn load_from<C: ConnectionTrait>(
    db: &C,
    schema: Option<&str>,
    who: &Identity,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<View, DbErr> {
    let sql = match schema {
        Some(s)
            if s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            LOAD.replace("access_", &format!("\"{s}\".access_"))
        }
        Some(s) => return Err(DbErr::Custom(format!("not a tenant schema: {s}"))),
        None => LOAD.to_string(),
    };
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            [
                patients.to_vec().into(),
                who.user_id.clone().into(),
                who.role.workgroups.clone().into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("projection query returned no row".into()))?;
    view_of(&row, who, now)
}

/// The decisions' projection read, one statement; every table it names starts `access_`.
const LOAD: &str = r#"
WITH teams AS (
    SELECT team FROM access_team_member WHERE user_id = $2
)
SELECT
  (SELECT coalesce(json_agg(json_build_array(patient_id, user_id, team,
          (extract(epoch FROM starts_at) * 1000000)::bigint,
          (extract(epoch FROM ends_at) * 1000000)::bigint)), '[]')::text
     FROM access_relationship
    WHERE patient_id = ANY($1)
      AND (user_id = $2 OR team = ANY($3) OR team IN (SELECT team FROM teams))) AS rels,
  (SELECT coalesce(json_agg(json_build_array(patient_id, (extract(epoch FROM expires_at) * 1000000)::bigint)), '[]')::text
     FROM access_break_glass WHERE patient_id = ANY($1) AND user_id = $2) AS glass,
  (SELECT coalesce(json_agg(json_build_array(patient_id, item, level, users, teams)), '[]')::text
     FROM access_seal WHERE patient_id = ANY($1)) AS seals,
  (SELECT coalesce(json_agg(json_build_array(patient_id, sharing, trusts)), '[]')::text
     FROM access_consent WHERE patient_id = ANY($1)) AS consent,
  (SELECT coalesce(json_agg(team), '[]')::text FROM teams) AS my_teams,
  (SELECT (extract(epoch FROM last_event_at) * 1000000)::bigint FROM access_projection_state WHERE id = 1) AS last_event
"#;

fn view_of(row: &sea_orm::QueryResult, who: &Identity, now: DateTime<Utc>) -> Result<View, DbErr> {
    let text = |col: &str| -> Result<String, DbErr> { row.try_get::<String>("", col) };
    let parse = |col: &str| -> Result<Vec<serde_json::Value>, DbErr> {
        serde_json::from_str(&text(col)?).map_err(|e| DbErr::Custom(format!("{col}: {e}")))
    };
    let micros = |v: &serde_json::Value| v.as_i64().and_then(|m| Utc.timestamp_micros(m).single());
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let mut view = View::default();
    for r in parse("rels")? {
        let (Some(patient), Some(starts)) = (s(&r[0]), micros(&r[3])) else {
            continue;
        };
        view.patients
            .entry(patient)
            .or_default()
            .relationships
            .push(Relationship {
                user: s(&r[1]),
                team: s(&r[2]),
                starts,
                ends: micros(&r[4]),
            });
    }
    for g in parse("glass")? {
        let (Some(patient), Some(expires)) = (s(&g[0]), micros(&g[1])) else {
            continue;
        };
        let entry = view.patients.entry(patient).or_default();
        // The latest grant counts.
        if entry
            .break_glass
            .as_ref()
            .is_none_or(|b| b.expires < expires)
        {
            entry.break_glass = Some(BreakGlass {
                user: who.user_id.clone(),
                expires,
            });
        }
    }
    for x in parse("seals")? {
        let (Some(patient), Some(item), Some(level)) = (s(&x[0]), s(&x[1]), s(&x[2])) else {
            continue;
        };
        let list = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let nominated = Nominated {
            users: list(&x[3]),
            teams: list(&x[4]),
        };
        let seal = if level == "locked" {
            Seal::Locked(nominated)
        } else {
            Seal::Sealed(nominated)
        };
        view.patients
            .entry(patient)
            .or_default()
            .seals
            .insert(item, seal);
    }
    for c in parse("consent")? {
        let Some(patient) = s(&c[0]) else { continue };
        // A permit names the trusts it lets see the record (none named: every trust); the
        // caller's trust outside it has no consent.
        let names_caller = c[2].as_array().is_none_or(|ts| {
            ts.iter()
                .any(|t| t.as_str() == Some(who.role.organisation.as_str()))
        });
        view.patients.entry(patient).or_default().consent = match c[1].as_str() {
            Some("permit") if names_caller => SharingConsent::Permitted,
            Some("permit") => SharingConsent::None,
            Some("forbid") => SharingConsent::Forbidden,
            _ => SharingConsent::None,
        };
    }
    view.teams = parse("my_teams")?.iter().filter_map(s).collect();
    view.age_ms = row
        .try_get::<Option<i64>>("", "last_event")?
        .and_then(|m| Utc.timestamp_micros(m).single())
        .map(|t| (now - t).num_milliseconds().max(0));
    Ok(view)
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
