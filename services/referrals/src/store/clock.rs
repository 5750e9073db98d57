//! Clock events: the truth a pathway's RTT periods are derived from. Each is recorded once
//! per pathway and source (a redelivered event from scheduling or PAS changes nothing), then
//! the pathway's periods are derived again in the same transaction.
use super::pathways::recompute;
use super::{stmt, StoreError};
use crate::domain::{ClockFlags, DomainError, EventKind, PathwayId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_bootstrap::TraceContext;
use tessera_tenancy::TenantId;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct ClockEventRow {
    pub id: Uuid,
    #[serde(rename = "date")]
    pub on_date: NaiveDate,
    #[serde(rename = "event")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_appointment: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communicated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_patient: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_start: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_rtt_code: Option<i16>,
    pub source: String,
    pub recorded_at: DateTime<Utc>,
}

impl ClockEventRow {
    pub(super) fn kind(&self) -> Result<EventKind, StoreError> {
        Ok(EventKind::parse(
            &self.kind,
            ClockFlags {
                first_appointment: self.first_appointment,
                communicated: self.communicated,
                by_patient: self.by_patient,
                original_start: self.original_start,
                non_rtt_code: self.non_rtt_code,
            },
        )
        .map_err(DomainError::from)?)
    }
}

pub struct NewClockEvent {
    pub pathway_id: PathwayId,
    pub on_date: NaiveDate,
    pub kind: EventKind,
    /// `api:<user>` (repeatable) or an external id (`referral:<id>:<what>`,
    /// `scheduling:appointment:<id>`): recorded once per pathway.
    pub source: String,
}

pub(super) async fn events_of<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Vec<ClockEventRow>, StoreError> {
    Ok(ClockEventRow::find_by_statement(stmt(
        "SELECT id, on_date, kind, first_appointment, communicated, by_patient, original_start,
                non_rtt_code, source, recorded_at
           FROM clock_event WHERE pathway_id = $1 ORDER BY on_date, seq",
        vec![id.into()],
    ))
    .all(db)
    .await?)
}

/// Records a clock event and re-derives the pathway's periods. `false`: the event's external
/// source was already recorded on this pathway (a redelivery), nothing changed.
pub async fn record_clock_event(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    e: NewClockEvent,
    trace: Option<&TraceContext>,
) -> Result<bool, StoreError> {
    let k = e.kind.flags();
    let inserted = txn
        .execute(stmt(
            "INSERT INTO clock_event (id, pathway_id, on_date, kind, first_appointment, communicated,
                                      by_patient, original_start, non_rtt_code, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (pathway_id, source) WHERE source NOT LIKE 'api:%' DO NOTHING",
            vec![
                Uuid::now_v7().into(),
                e.pathway_id.as_uuid().into(),
                e.on_date.into(),
                e.kind.name().into(),
                k.first_appointment.into(),
                k.communicated.into(),
                k.by_patient.into(),
                k.original_start.into(),
                k.non_rtt_code.into(),
                e.source.into(),
            ],
        ))
        .await?
        .rows_affected()
        > 0;
    if inserted {
        recompute(txn, tenant, e.pathway_id.as_uuid(), trace).await?;
    }
    Ok(inserted)
}
