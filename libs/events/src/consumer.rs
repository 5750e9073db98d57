//! Consumers. Each message's effect and its inbox row commit in one transaction in the
//! tenant's schema; the offset is stored only after that commit. Redelivery (a crash before
//! the commit of the offset, a relay retry) finds the inbox row and changes nothing.
use crate::CloudEventHeaders;
use futures::future::BoxFuture;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::{Metrics, Shutdown, TraceContext};
use tessera_tenancy::{KafkaSettings, TenantDb, TenantId, TenantRegistry};
use tracing::Instrument;
use uuid::Uuid;

/// How long a stopping consumer waits to commit and leave its group.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

pub struct InboundEvent {
    pub tenant: TenantId,
    pub topic: String,
    pub event_id: Uuid,
    pub ce_type: String,
    /// `ce_time`: when the producer wrote the event (`None` if it is not RFC 3339).
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub trace: Option<TraceContext>,
}

/// A consumer's effect. It runs inside the tenant-scoped transaction that also records the
/// inbox row; returning an error rolls both back and the message is retried.
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), String>>;
}

pub struct ConsumerSpec {
    /// Consumer group, e.g. `access.mpi-patient`.
    pub group: String,
    /// Which tenant topics: `tessera.<any tenant>.<service>.<stream>`.
    pub service: String,
    pub stream: String,
    /// Attempts before a message goes to `inbox_dead_letter`.
    pub max_attempts: u32,
    /// The trusts this deployment serves (`tenancy.only`): their topics only, by name. `None`:
    /// every trust's, by pattern. A deployment never reads another deployment's trusts.
    pub only: Option<Vec<TenantId>>,
}

enum Outcome {
    Applied,
    Duplicate,
    /// Another deployment's tenant (`tenancy.only`): nothing to do here.
    NotServed,
}

pub async fn run_consumer(
    kafka: KafkaSettings,
    spec: ConsumerSpec,
    db: TenantDb,
    registry: Arc<TenantRegistry>,
    handler: Arc<dyn Handler>,
    metrics: Metrics,
    shutdown: Shutdown,
) -> Result<(), String> {
    let consumer: StreamConsumer = kafka
        .client_config()
        .set("group.id", &spec.group)
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Long enough that a broker or a host busy for a few seconds does not expire a live
        // member (Kafka's own default is 45 s). tansu 0.6.0 may give a member that rejoins
        // after expiring no partitions at all (fixed after 0.6.0), so an expiry must be rare.
        .set("session.timeout.ms", "30000")
        .set("heartbeat.interval.ms", "3000")
        .set("topic.metadata.refresh.interval.ms", "2000")
        .create()
        .map_err(|e| e.to_string())?;
    let topics: Vec<String> = match &spec.only {
        Some(tenants) => tenants
            .iter()
            .map(|t| t.topic(&spec.service, &spec.stream))
            .collect(),
        None => vec![format!(
            "^tessera\\.[a-z0-9]+\\.{}\\.{}$",
            spec.service, spec.stream
        )],
    };
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics).map_err(|e| e.to_string())?;
    let stream_label = format!("{}.{}", spec.service, spec.stream);
    loop {
        let msg = tokio::select! {
            _ = shutdown.wait() => break,
            m = consumer.recv() => m,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "consumer receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut attempt = 0;
        let mut stopping = false;
        loop {
            attempt += 1;
            match process(&db, &registry, handler.as_ref(), &msg).await {
                Ok(outcome) => {
                    let label = match outcome {
                        Outcome::Applied => "applied",
                        Outcome::Duplicate => "duplicate",
                        Outcome::NotServed => "not_served",
                    };
                    metrics
                        .events_consumed
                        .with_label_values(&[stream_label.as_str(), label])
                        .inc();
                    break;
                }
                Err(e) if attempt >= spec.max_attempts => {
                    tracing::error!(topic = msg.topic(), offset = msg.offset(), error = %e, "event dead-lettered");
                    metrics
                        .events_consumed
                        .with_label_values(&[stream_label.as_str(), "dead_letter"])
                        .inc();
                    if let Err(e2) = dead_letter(&db, &msg, &e).await {
                        // Could not even record it: do not move past it.
                        tracing::error!(error = %e2, "dead-letter write failed; retrying the event");
                        attempt = 0;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(topic = msg.topic(), offset = msg.offset(), attempt, error = %e, "event failed; retrying");
                    tokio::select! {
                        _ = shutdown.wait() => {
                            stopping = true;
                            break;
                        }
                        _ = tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))) => {}
                    }
                }
            }
        }
        if stopping {
            // Not applied: its offset is not stored, so it is delivered again.
            break;
        }
        let stored = consumer.store_offset_from_message(&msg);
        drop(msg);
        stored.map_err(|e| e.to_string())?;
    }
    commit_and_stop(consumer).await
}

/// Commits the stored offsets and leaves the group, on a thread of its own, waiting at most
/// [`CLOSE_WAIT`]: with the broker away, librdkafka's close blocks for up to the session
/// timeout, and a pod must stop within its grace period. Offsets not committed then are
/// redelivered to the next member, whose inbox drops what was already applied.
async fn commit_and_stop(consumer: StreamConsumer) -> Result<(), String> {
    let (done, wait) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("consumer-close".into())
        .spawn(move || {
            let committed = match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => Ok(()),
                // Nothing stored yet is not a failure.
                Err(rdkafka::error::KafkaError::ConsumerCommit(
                    rdkafka::types::RDKafkaErrorCode::NoOffset,
                )) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            drop(consumer);
            let _ = done.send(committed);
        });
    if let Err(e) = spawned {
        return Err(format!("closing the consumer: {e}"));
    }
    match tokio::time::timeout(CLOSE_WAIT, wait).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Ok(()),
        Err(_) => {
            tracing::warn!(
                "consumer did not close within {CLOSE_WAIT:?} (broker unreachable?); its offsets will be redelivered and de-duplicated"
            );
            Ok(())
        }
    }
}

async fn process(
    db: &TenantDb,
    registry: &TenantRegistry,
    handler: &dyn Handler,
    msg: &BorrowedMessage<'_>,
) -> Result<Outcome, String> {
    // A topic of no tenant (`tessera.platform.*` matches a pattern too): not ours to apply.
    let Some(tenant) = TenantId::from_topic(msg.topic()) else {
        return Ok(Outcome::NotServed);
    };
    if registry.is_not_served(&tenant) {
        return Ok(Outcome::NotServed);
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
    let span = tracing::info_span!("event.consume", topic = msg.topic(), ce_type = %headers.r#type,
        trace_id = trace.as_ref().map(|t| t.trace_id()).unwrap_or_default());
    if let Some(t) = &trace {
        tessera_bootstrap::telemetry::set_remote_parent(&span, t);
    }
    let event = InboundEvent {
        tenant: tenant.clone(),
        topic: msg.topic().to_string(),
        event_id,
        time: chrono::DateTime::parse_from_rfc3339(&headers.time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        ce_type: headers.r#type,
        key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload: msg.payload().unwrap_or_default().to_vec(),
        trace,
    };
    async {
        let txn = db.begin(&tenant).await.map_err(|e| e.to_string())?;
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
            txn.rollback().await.map_err(|e| e.to_string())?;
            return Ok(Outcome::Duplicate);
        }
        handler.handle(&txn, &event).await?;
        txn.commit().await.map_err(|e| e.to_string())?;
        Ok(Outcome::Applied)
    }
    .instrument(span)
    .await
}

async fn dead_letter(db: &TenantDb, msg: &BorrowedMessage<'_>, error: &str) -> Result<(), String> {
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
