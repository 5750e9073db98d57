use chrono::{SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};
use tessera_bootstrap::TraceContext;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// An event to publish, as the service hands it over. The payload is an encoded Protobuf
/// message from `proto/`.
pub struct OutgoingEvent {
    /// Full topic name, from `TenantId::topic`.
    pub topic: String,
    /// Partition key; the patient id for patient events, so their order is kept.
    pub key: String,
    /// CloudEvents type, e.g. `uk.nhs.tessera.mpi.PatientRegistered.v1`.
    pub ce_type: String,
    /// CloudEvents source, e.g. `/tessera/mpi`.
    pub source: String,
    pub subject: Option<String>,
    pub payload: Vec<u8>,
    /// The request's trace, so consumers join it.
    pub trace: Option<TraceContext>,
}

/// Writes `event` into the outbox inside `txn` — the transaction that makes the change the
/// event reports. The relay publishes it after commit; if the transaction rolls back, the
/// event never existed. Returns the CloudEvents id.
pub async fn enqueue(txn: &DatabaseTransaction, event: OutgoingEvent) -> Result<Uuid, EventError> {
    enqueue_after(txn, None, event).await
}

/// A statement that writes the change an event reports, run in the same round trip as the
/// event's outbox row: a data-modifying `WITH` whose placeholders are `$1…$n` of `values`.
pub struct Before {
    pub sql: &'static str,
    pub values: Vec<Value>,
}

/// [`enqueue`], with `before` run first in the same statement (one round trip, ADR 29).
pub async fn enqueue_after(
    txn: &DatabaseTransaction,
    before: Option<Before>,
    event: OutgoingEvent,
) -> Result<Uuid, EventError> {
    let id = Uuid::now_v7();
    let time = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let (prefix, mut values) = match before {
        Some(b) => (format!("WITH before AS ({}) ", b.sql), b.values),
        None => (String::new(), Vec::new()),
    };
    let n = values.len();
    let p = |i: usize| format!("${}", n + i);
    let sql = format!(
        "{prefix}INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, ce_subject, ce_time, traceparent, payload)
         VALUES ({}, {}, {}, {}, {}, {}, {}::timestamptz, {}, {})",
        p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9)
    );
    values.extend([
        id.into(),
        event.topic.into(),
        event.key.into(),
        event.ce_type.into(),
        event.source.into(),
        event.subject.into(),
        time.into(),
        event.trace.map(|t| t.to_header()).into(),
        event.payload.into(),
    ]);
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(id)
}
