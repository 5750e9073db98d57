//! The read path: what one request's decisions need, in one statement ([`load`]), or naming
//! the trust's schema for a caller that reads several trusts in one transaction
//! ([`load_in`]).
use crate::decision::{BreakGlass, Nominated, Relationship, Seal, SharingConsent};
use crate::Identity;
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use tessera_access_core::view::View;
use tessera_tenancy::TenantId;

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

/// As [`load`], naming `tenant`'s schema in the statement instead of relying on the
/// transaction's `search_path`: for a caller that reads several
/// trusts in one transaction, where each change of the path would drop the connection's
/// cached plan and plan the statement afresh (the regional record: ADR 35).
pub async fn load_in<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    who: &Identity,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<View, DbErr> {
    load_from(db, Some(tenant), who, patients, now).await
}

async fn load_from<C: ConnectionTrait>(
    db: &C,
    tenant: Option<&TenantId>,
    who: &Identity,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<View, DbErr> {
    let sql = match tenant {
        Some(t) => LOAD.replace("access_", &format!("\"{}\".access_", t.schema())),
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
