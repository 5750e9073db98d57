//! RTT pathways and their clock events. The events are the truth; the periods `libs/rtt`
//! derives from them are rewritten in the same transaction as every change, and the pathway
//! is published on `tessera.<ods>.referrals.rtt` as it now stands.
use super::clock::{events_of, ClockEventRow};
use super::{publish, rfc3339, stmt, types, StoreError};
use crate::domain::{PathwayId, Ppid};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
use tessera_proto::referrals::v1 as pb;
use tessera_rtt::{PeriodState, StopCode};
use tessera_tenancy::TenantId;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct PathwayRow {
    pub id: Uuid,
    pub patient_id: String,
    pub ppid: String,
    pub issuer: String,
    pub specialty: String,
    pub treatment_function: String,
    pub consultant: Option<String>,
    pub team: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PATHWAY_COLUMNS: &str = "id, patient_id, ppid, issuer, specialty, treatment_function, consultant, team, created_at, updated_at";

/// A period as stored, with its waiting time as of the day asked.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodRow {
    pub start_date: NaiveDate,
    pub start_code: i16,
    pub end_date: Option<NaiveDate>,
    /// `open`, `stopped`, `nullified`, `transferred-out`.
    pub state: String,
    /// 30–36 for a stop (33 nullified), 21 for a transfer out.
    pub stop_code: Option<i16>,
    /// Days from the clock start to the stop, or to `as_of` while the clock runs.
    pub days_waited: i64,
    /// Weeks band by the national rule: `k` means "more than k, up to k+1 weeks".
    pub week_band: i64,
    pub breach_date: NaiveDate,
    pub breached: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathwayView {
    #[serde(flatten)]
    pub pathway: PathwayRow,
    /// `running` while the last period is open, else `stopped`.
    pub clock: &'static str,
    pub periods: Vec<PeriodRow>,
    pub events: Vec<ClockEventRow>,
    pub as_of: NaiveDate,
}

fn state_of(s: PeriodState) -> (&'static str, Option<i16>) {
    match s {
        PeriodState::Open => ("open", None),
        PeriodState::Stopped(c) => ("stopped", Some(i16::from(c.code()))),
        PeriodState::Nullified => (
            "nullified",
            Some(i16::from(StopCode::FirstAppointmentDna.code())),
        ),
        PeriodState::TransferredOut => ("transferred-out", Some(21)),
    }
}

/// Creates a pathway; `ppid` `None` issues one from the trust's sequence.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_pathway(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    patient_id: &PatientId,
    ppid: Option<Ppid>,
    specialty: &str,
    treatment_function: &str,
    consultant: Option<&str>,
    team: Option<&str>,
) -> Result<PathwayRow, StoreError> {
    let ppid = match ppid {
        Some(p) => p,
        None => {
            let row = txn
                .query_one(stmt("SELECT nextval('ppid_seq') AS n", vec![]))
                .await?
                .ok_or(StoreError::NotFound)?;
            let n: i64 = row.try_get("", "n")?;
            Ppid {
                id: format!("{n:020}"),
                issuer: tenant.as_str().to_string(),
            }
        }
    };
    PathwayRow::find_by_statement(stmt(
        &format!(
            "INSERT INTO pathway (id, patient_id, ppid, issuer, specialty, treatment_function, consultant, team)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (ppid, issuer) DO NOTHING RETURNING {PATHWAY_COLUMNS}"
        ),
        vec![
            Uuid::now_v7().into(),
            patient_id.to_string().into(),
            ppid.id.clone().into(),
            ppid.issuer.clone().into(),
            specialty.into(),
            treatment_function.into(),
            consultant.map(str::to_string).into(),
            team.map(str::to_string).into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or_else(|| {
        StoreError::Conflict(
            crate::api::errors::PATHWAY_EXISTS,
            format!(
                "pathway {} issued by {} exists: name it to refer within it",
                ppid.id, ppid.issuer
            ),
        )
    })
}

pub(crate) async fn pathway_by_ppid(
    txn: &DatabaseTransaction,
    ppid: &Ppid,
) -> Result<Option<PathwayRow>, StoreError> {
    Ok(PathwayRow::find_by_statement(stmt(
        &format!("SELECT {PATHWAY_COLUMNS} FROM pathway WHERE ppid = $1 AND issuer = $2"),
        vec![ppid.id.clone().into(), ppid.issuer.clone().into()],
    ))
    .one(txn)
    .await?)
}

/// The id of the pathway with this PPID and issuer, if this trust holds it.
pub async fn pathway_id_by_ppid(
    txn: &DatabaseTransaction,
    ppid: &Ppid,
) -> Result<Option<PathwayId>, StoreError> {
    Ok(pathway_by_ppid(txn, ppid).await?.map(|p| p.id.into()))
}

async fn pathway_row<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<PathwayRow, StoreError> {
    PathwayRow::find_by_statement(stmt(
        &format!("SELECT {PATHWAY_COLUMNS} FROM pathway WHERE id = $1"),
        vec![id.into()],
    ))
    .one(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Points the pathway at a (new) consultant and team, when triage names them.
pub(crate) async fn assign(
    txn: &DatabaseTransaction,
    id: Uuid,
    consultant: Option<&str>,
    team: &str,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "UPDATE pathway SET consultant = coalesce($2, consultant), team = $3, updated_at = now()
          WHERE id = $1",
        vec![
            id.into(),
            consultant.map(str::to_string).into(),
            team.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Re-derives and stores the pathway's periods, and publishes the pathway as it now stands.
pub(crate) async fn recompute(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: Uuid,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    let p = pathway_row(txn, id).await?;
    let events = events_of(txn, id).await?;
    let mut rtt = Vec::with_capacity(events.len());
    for e in &events {
        rtt.push(tessera_rtt::Event {
            date: e.on_date,
            kind: e.kind()?,
        });
    }
    let periods = tessera_rtt::periods(&rtt);
    txn.execute(stmt(
        "DELETE FROM rtt_period WHERE pathway_id = $1",
        vec![id.into()],
    ))
    .await?;
    let mut wire = Vec::with_capacity(periods.len());
    for (n, period) in periods.iter().enumerate() {
        let (state, stop) = state_of(period.state);
        txn.execute(stmt(
            "INSERT INTO rtt_period (pathway_id, n, start_date, start_code, end_date, state, stop_code,
                                     patient_id, ppid, issuer, specialty, treatment_function,
                                     consultant, team)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            vec![
                id.into(),
                (n as i32).into(),
                period.start.into(),
                i16::from(period.start_code).into(),
                period.end.into(),
                state.into(),
                stop.into(),
                p.patient_id.clone().into(),
                p.ppid.clone().into(),
                p.issuer.clone().into(),
                p.specialty.clone().into(),
                p.treatment_function.clone().into(),
                p.consultant.clone().into(),
                p.team.clone().into(),
            ],
        ))
        .await?;
        wire.push(pb::RttPeriod {
            start_date: period.start.to_string(),
            start_code: u32::from(period.start_code),
            end_date: period.end.map(|d| d.to_string()).unwrap_or_default(),
            state: state.into(),
            stop_code: stop.map(|s| s as u32).unwrap_or(0),
        });
    }
    txn.execute(stmt(
        "UPDATE pathway SET updated_at = now() WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    let payload = pb::RttPathwayChanged {
        pathway_id: p.id.to_string(),
        patient_id: p.patient_id.clone(),
        ppid: p.ppid.clone(),
        ppid_issuer: p.issuer.clone(),
        specialty: p.specialty.clone(),
        treatment_function: p.treatment_function.clone(),
        consultant_user_id: p.consultant.clone().unwrap_or_default(),
        team: p.team.clone().unwrap_or_default(),
        periods: wire,
        changed_at: rfc3339(Utc::now()),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "rtt",
        &p.patient_id,
        types::RTT_PATHWAY_CHANGED,
        payload,
        trace,
    )
    .await
}

#[derive(FromQueryResult)]
struct StoredPeriod {
    start_date: NaiveDate,
    start_code: i16,
    end_date: Option<NaiveDate>,
    state: String,
    stop_code: Option<i16>,
}

/// Whether the pathway's clock is running now.
pub(crate) async fn clock_running(txn: &DatabaseTransaction, id: Uuid) -> Result<bool, StoreError> {
    Ok(txn
        .query_one(stmt(
            "SELECT 1 AS n FROM rtt_period WHERE pathway_id = $1 AND end_date IS NULL",
            vec![id.into()],
        ))
        .await?
        .is_some())
}

/// The pathway with its events and periods, waiting times as of `as_of`.
pub async fn pathway<C: ConnectionTrait>(
    db: &C,
    id: PathwayId,
    as_of: NaiveDate,
) -> Result<PathwayView, StoreError> {
    let p = pathway_row(db, id.as_uuid()).await?;
    let events = events_of(db, id.as_uuid()).await?;
    let stored = StoredPeriod::find_by_statement(stmt(
        "SELECT start_date, start_code, end_date, state, stop_code FROM rtt_period
          WHERE pathway_id = $1 ORDER BY n",
        vec![id.as_uuid().into()],
    ))
    .all(db)
    .await?;
    let periods: Vec<PeriodRow> = stored
        .into_iter()
        .map(|s| {
            let days = tessera_rtt::days_waited(s.start_date, s.end_date.unwrap_or(as_of));
            PeriodRow {
                start_date: s.start_date,
                start_code: s.start_code,
                end_date: s.end_date,
                state: s.state,
                stop_code: s.stop_code,
                days_waited: days,
                week_band: tessera_rtt::week_band(days),
                breach_date: tessera_rtt::breach_date(s.start_date),
                breached: tessera_rtt::is_breach(days),
            }
        })
        .collect();
    let clock = if periods.last().is_some_and(|x| x.end_date.is_none()) {
        "running"
    } else {
        "stopped"
    };
    Ok(PathwayView {
        pathway: p,
        clock,
        periods,
        events,
        as_of,
    })
}

/// A patient's pathways, newest first.
pub async fn pathways_of<C: ConnectionTrait>(
    db: &C,
    patient_id: &PatientId,
) -> Result<Vec<PathwayRow>, StoreError> {
    Ok(PathwayRow::find_by_statement(stmt(
        &format!(
            "SELECT {PATHWAY_COLUMNS} FROM pathway WHERE patient_id = $1 ORDER BY created_at DESC"
        ),
        vec![patient_id.to_string().into()],
    ))
    .all(db)
    .await?)
}
