//! Applying consumed messages: each message's effect and its inbox row in the tenant's
//! schema, one message per transaction, or a run of one tenant's messages in one transaction
//! (ADR 19: a transaction per message costs a commit, ~4 ms on this machine's disk, which
//! caps a consumer at ~250 messages a second; a batch shares one commit). A batch that fails
//! anywhere is rolled back whole and the caller applies its messages one at a time, so one bad
//! message is retried and dead-lettered on its own.
use crate::consumer::{Handler, InboundEvent};
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

/// The event in `msg`, or `None` when it is not this deployment's to apply.
fn decode(registry: &TenantRegistry, msg: &OwnedMessage) -> Result<Option<InboundEvent>, String> {
    // A topic of no tenant (`tessera.platform.*` matches a pattern too): not ours to apply.
    let Some(tenant) = TenantId::from_topic(msg.topic()) else {
        return Ok(None);
    };
    if registry.is_not_served(&tenant) {
        return Ok(None);
    }
    if !registry.is_ready(&tenant) {
        return Err(format!("tenant {tenant} is not provisioned here yet"));
    }
    let headers = msg
        .headers()
        .and_then(CloudEventHeaders::from_kafka)
        .ok_or("missing CloudEvents headers")?;
    let event_id = Uuid::parse_str(&headers.id).map_err(|_| "ce_id is not a UUID")?;
    let trace = headers
        .traceparent
        .as_deref()
        .and_then(TraceContext::parse)
        .map(|t| t.child());
    Ok(Some(InboundEvent {
        tenant,
        topic: msg.topic().to_string(),
        event_id,
        time: chrono::DateTime::parse_from_rfc3339(&headers.time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        ce_type: headers.r#type,
        key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload: msg.payload().unwrap_or_default().to_vec(),
        trace,
    }))
}

/// The inbox row, then the effect, inside `txn`, in the event's span (joined to its trace).
async fn apply_in(
    txn: &DatabaseTransaction,
    handler: &dyn Handler,
    event: &InboundEvent,
) -> Result<Outcome, String> {
    let span = tracing::info_span!("event.consume", topic = %event.topic, ce_type = %event.ce_type,
        trace_id = event.trace.as_ref().map(|t| t.trace_id()).unwrap_or_default());
    if let Some(t) = &event.trace {
        tessera_bootstrap::telemetry::set_remote_parent(&span, t);
    }
    async {
        let inserted = txn
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
                [event.event_id.into(), event.topic.clone().into()],
            ))
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        if inserted == 0 {
            return Ok(Outcome::Duplicate);
        }
        handler.handle(txn, event).await?;
        Ok(Outcome::Applied)
    }
    .instrument(span)
    .await
}

/// One message in its own transaction.
pub(crate) async fn process(
    db: &TenantDb,
    registry: &TenantRegistry,
    handler: &dyn Handler,
    msg: &OwnedMessage,
) -> Result<Outcome, String> {
    let Some(event) = decode(registry, msg)? else {
        return Ok(Outcome::NotServed);
    };
    let txn = db.begin(&event.tenant).await.map_err(|e| e.to_string())?;
    let outcome = apply_in(&txn, handler, &event).await?;
    if outcome == Outcome::Duplicate {
        txn.rollback().await.map_err(|e| e.to_string())?;
    } else {
        txn.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(outcome)
}

/// One tenant's messages (`msgs`, in order) in one transaction. `Err`: nothing was applied.
pub(crate) async fn process_batch(
    db: &TenantDb,
    registry: &TenantRegistry,
    handler: &dyn Handler,
    tenant: &TenantId,
    msgs: &[OwnedMessage],
) -> Result<Vec<Outcome>, String> {
    let events = msgs
        .iter()
        .map(|m| decode(registry, m))
        .collect::<Result<Vec<_>, _>>()?;
    let txn = db.begin(tenant).await.map_err(|e| e.to_string())?;
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &events {
        outcomes.push(match event {
            Some(e) if &e.tenant == tenant => apply_in(&txn, handler, e).await?,
            Some(_) => return Err("a batch spans tenants".into()),
            None => Outcome::NotServed,
        });
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    Ok(outcomes)
}

/// Records a message that failed every attempt in `inbox_dead_letter`.
pub(crate) async fn dead_letter(
    db: &TenantDb,
    msg: &OwnedMessage,
    error: &str,
) -> Result<(), String> {
    let tenant = TenantId::from_topic(msg.topic()).ok_or("topic names no tenant")?;
    let txn = db.begin(&tenant).await.map_err(|e| e.to_string())?;
    let ce_id = msg
        .headers()
        .and_then(CloudEventHeaders::from_kafka)
        .map(|h| h.id);
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO inbox_dead_letter (event_id, topic, kafka_partition, kafka_offset, error, payload)
         VALUES ($1, $2, $3, $4, $5, $6)",
        [
            ce_id.into(),
            msg.topic().to_string().into(),
            msg.partition().into(),
            msg.offset().into(),
            error.to_string().into(),
            msg.payload().map(<[u8]>::to_vec).into(),
        ],
    ))
    .await
    .map_err(|e| e.to_string())?;
    txn.commit().await.map_err(|e| e.to_string())
}
