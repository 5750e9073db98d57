//! Applying consumed messages: each message's effect and its inbox row in the tenant's
//! schema, one message per transaction, or a run of one tenant's messages in one transaction
//! (ADR 19: a transaction per message costs a commit, ~4 ms on this machine's disk, which
//! caps a consumer at ~250 messages a second; a batch shares one commit). A batch that fails
//! anywhere is rolled back whole and the caller applies its messages one at a time, so one bad
//! message is retried and dead-lettered on its own.
use crate::consumer::{Handler, InboundEvent};
use crate::pack::{unpack, EVENT_BATCH_TYPE};
use crate::CloudEventHeaders;
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use tessera_bootstrap::TraceContext;
use tessera_tenancy::{TenantDb, TenantId, TenantRegistry};
use tracing::Instrument;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applied,
    Duplicate,
    /// Another deployment's tenant (`tenancy.only`), or a topic of no tenant: nothing to do.
    NotServed,
}

impl Outcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::NotServed => "not_served",
        }
    }
}

/// The events in `msg` — one, or the events of a packed `EventBatch` — or none when it is not
/// this deployment's to apply.
fn decode(registry: &TenantRegistry, msg: &OwnedMessage) -> Result<Vec<InboundEvent>, String> {
    // A topic of no tenant (`tessera.platform.*` matches a pattern too): not ours to apply.
    let Some(tenant) = TenantId::from_topic(msg.topic()) else {
        return Ok(Vec::new());
    };
    if registry.is_not_served(&tenant) {
        return Ok(Vec::new());
    }
    if !registry.is_ready(&tenant) {
        return Err(format!("tenant {tenant} is not provisioned here yet"));
    }
    let headers = msg
        .headers()
        .and_then(CloudEventHeaders::from_kafka)
        .ok_or("missing CloudEvents headers")?;
    let payload = msg.payload().unwrap_or_default();
    if headers.r#type == EVENT_BATCH_TYPE {
        return unpack(payload)?
            .into_iter()
            .map(|e| {
                let key = (!e.key.is_empty()).then_some(e.key);
                event(
                    &tenant,
                    msg.topic(),
                    &e.id,
                    e.r#type,
                    &e.time,
                    key,
                    e.payload,
                    &e.traceparent,
                )
            })
            .collect();
    }
    let key = msg.key().map(|k| String::from_utf8_lossy(k).into_owned());
    let trace = headers.traceparent.unwrap_or_default();
    Ok(vec![event(
        &tenant,
        msg.topic(),
        &headers.id,
        headers.r#type,
        &headers.time,
        key,
        payload.to_vec(),
        &trace,
    )?])
}

#[allow(clippy::too_many_arguments)]
fn event(
    tenant: &TenantId,
    topic: &str,
    id: &str,
    ce_type: String,
    time: &str,
    key: Option<String>,
    payload: Vec<u8>,
    traceparent: &str,
) -> Result<InboundEvent, String> {
    Ok(InboundEvent {
        tenant: tenant.clone(),
        topic: topic.to_string(),
        event_id: Uuid::parse_str(id).map_err(|_| "ce_id is not a UUID")?,
        time: chrono::DateTime::parse_from_rfc3339(time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        ce_type,
        key,
        payload,
        trace: TraceContext::parse(traceparent),
    })
}

/// The inbox row, then the effect, inside `txn`, in the event's span: a child of the span
/// that produced the event. The handler sees the consumer span's own context in
/// `event.trace`, so what it publishes continues the same trace tree (ADR 22).
async fn apply_in(
    txn: &DatabaseTransaction,
    handler: &dyn Handler,
    consumer: &str,
    event: &mut InboundEvent,
) -> Result<Outcome, String> {
    let span = tracing::info_span!("event.consume", topic = %event.topic, ce_type = %event.ce_type,
        trace_id = tracing::field::Empty);
    let own = TraceContext::open(&span, event.trace.as_ref());
    span.record("trace_id", own.trace_id());
    event.trace = Some(own);
    let event = &*event;
    async {
        let inserted = txn
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO inbox (consumer, event_id, topic) VALUES ($1, $2, $3)
                 ON CONFLICT (consumer, event_id) DO NOTHING",
                [
                    consumer.into(),
                    event.event_id.into(),
                    event.topic.clone().into(),
                ],
            ))
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        if inserted == 0 {
            return Ok(Outcome::Duplicate);
        }
        handler
            .handle(txn, event)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Outcome::Applied)
    }
    .instrument(span)
    .await
}

/// The events of one message (one, or a packed batch), in their own transaction.
pub(crate) async fn process(
    db: &TenantDb,
    registry: &TenantRegistry,
    handler: &dyn Handler,
    consumer: &str,
    msg: &OwnedMessage,
) -> Result<Vec<Outcome>, String> {
    let mut events = decode(registry, msg)?;
    let Some(first) = events.first() else {
        return Ok(vec![Outcome::NotServed]);
    };
    let txn = db.begin(&first.tenant).await.map_err(|e| e.to_string())?;
    handler.begin(&txn).await.map_err(|e| e.to_string())?;
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &mut events {
        outcomes.push(apply_in(&txn, handler, consumer, event).await?);
    }
    if outcomes.iter().all(|o| *o == Outcome::Duplicate) {
        txn.rollback().await.map_err(|e| e.to_string())?;
    } else {
        txn.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(outcomes)
}

/// One tenant's messages (`msgs`, in order) in one transaction. `Err`: nothing was applied.
pub(crate) async fn process_batch(
    db: &TenantDb,
    registry: &TenantRegistry,
    handler: &dyn Handler,
    consumer: &str,
    tenant: &TenantId,
    msgs: &[OwnedMessage],
) -> Result<Vec<Outcome>, String> {
    let mut decoded = Vec::with_capacity(msgs.len());
    for m in msgs {
        decoded.push(decode(registry, m)?);
    }
    let txn = db.begin(tenant).await.map_err(|e| e.to_string())?;
    handler.begin(&txn).await.map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for events in &mut decoded {
        if events.is_empty() {
            outcomes.push(Outcome::NotServed);
        }
        for e in events.iter_mut() {
            if &e.tenant != tenant {
                return Err("a batch spans tenants".into());
            }
            outcomes.push(apply_in(&txn, handler, consumer, e).await?);
        }
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    Ok(outcomes)
}

/// Records a message that failed every attempt in `inbox_dead_letter`.
pub(crate) async fn dead_letter(
    db: &TenantDb,
    consumer: &str,
    msg: &OwnedMessage,
    error: &str,
) -> Result<(), String> {
    // The trust's own schema; a message for a trust this deployment never provisioned (an
    // unknown trust's topic matched the pattern) has none, and goes to the platform schema's
    // dead letters instead — kept for replay, and no longer blocking the topic behind it.
    if let Some(tenant) = TenantId::from_topic(msg.topic()) {
        match write_dead_letter(db.begin(&tenant).await, consumer, msg, error).await {
            Ok(()) => return Ok(()),
            Err(e) => tracing::warn!(tenant = %tenant, error = %e,
                "no dead-letter table for the trust here; dead-lettering in the platform schema"),
        }
    }
    write_dead_letter(db.begin_platform().await, consumer, msg, error).await
}

async fn write_dead_letter(
    txn: Result<sea_orm::DatabaseTransaction, tessera_tenancy::DbError>,
    consumer: &str,
    msg: &OwnedMessage,
    error: &str,
) -> Result<(), String> {
    let txn = txn.map_err(|e| e.to_string())?;
    let ce_id = msg
        .headers()
        .and_then(CloudEventHeaders::from_kafka)
        .map(|h| h.id);
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO inbox_dead_letter (event_id, topic, kafka_partition, kafka_offset, error, payload, consumer)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            ce_id.into(),
            msg.topic().to_string().into(),
            msg.partition().into(),
            msg.offset().into(),
            error.to_string().into(),
            msg.payload().map(<[u8]>::to_vec).into(),
            consumer.into(),
        ],
    ))
    .await
    .map_err(|e| e.to_string())?;
    txn.commit().await.map_err(|e| e.to_string())
}
