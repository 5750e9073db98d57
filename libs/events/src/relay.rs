//! The outbox relay. For each tenant schema (and the platform schema) it claims the oldest
//! rows with `FOR UPDATE SKIP LOCKED`, publishes them with an idempotent producer, and deletes
//! them only once the broker has acknowledged every one. A per-schema advisory lock means one
//! relay (of however many replicas) drains a schema at a time, so events leave in the order
//! they were written — which keeps each patient's events in order.
use crate::CloudEventHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionTrait};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_bootstrap::{Metrics, Shutdown};
use tessera_tenancy::JobError;
use tessera_tenancy::{KafkaSettings, TenantDb, TenantRegistry, PLATFORM_SCHEMA};
use tokio::sync::Notify;

const BATCH: i64 = 500;
/// How often the outbox backlog gauge is sampled.
const PENDING_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Relay {
    db: TenantDb,
    producer: FutureProducer,
    registry: Arc<TenantRegistry>,
    metrics: Metrics,
    wake: Arc<Notify>,
    poll: Duration,
    /// Streams (`<service>.<stream>`) whose events are packed into `EventBatch` messages.
    packed: Vec<String>,
    /// After a wake, wait this long before draining, so a burst of commits is published in
    /// one batch rather than one relay cycle per request (each cycle costs several database
    /// round trips per schema). Bounds the extra delay an event sees.
    linger: Duration,
}

#[derive(FromQueryResult)]
struct Row {
    seq: i64,
    event_id: uuid::Uuid,
    topic: String,
    msg_key: String,
    ce_type: String,
    ce_source: String,
    ce_subject: Option<String>,
    ce_time: String,
    traceparent: Option<String>,
    payload: Vec<u8>,
}

impl Relay {
    pub fn new(
        db: TenantDb,
        kafka: &KafkaSettings,
        registry: Arc<TenantRegistry>,
        metrics: Metrics,
    ) -> Result<Self, JobError> {
        let producer: FutureProducer = kafka
            .producer_config()
            .set("linger.ms", "2")
            // Long enough that a short broker outage is ridden out by librdkafka's own
            // idempotent retries (no duplicate) rather than by our re-send of the batch.
            .set("message.timeout.ms", "30000")
            .set("reconnect.backoff.max.ms", "1000")
            // Wait for a slow broker rather than resend: a resent batch is answered
            // DuplicateSequenceNumber, and tansu 0.6.0's sqlite storage can panic on that path
            // (seen under the 10,000-request load test), taking the broker down with it. One
            // request in flight keeps a resend to one batch.
            .set("socket.timeout.ms", "60000")
            .set("request.timeout.ms", "60000")
            .set("max.in.flight.requests.per.connection", "1")
            .create()?;
        Ok(Self {
            db,
            producer,
            registry,
            metrics,
            wake: Arc::new(Notify::new()),
            packed: kafka.packed_streams.clone(),
            poll: Duration::from_millis(250),
            linger: Duration::from_millis(10),
        })
    }

    /// Handlers call `notify_one()` on this after committing, so events leave at once rather
    /// than at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub async fn run(self, shutdown: Shutdown) -> Result<(), JobError> {
        tokio::spawn(self.clone().sample_pending(shutdown.clone()));
        // Back-off is per schema: one tenant's failure (a topic not there yet) must not slow
        // every other tenant's events.
        let mut retry_at: HashMap<String, (Instant, Duration)> = HashMap::new();
        loop {
            let mut schemas: Vec<(String, String)> = self
                .registry
                .ready_tenants()
                .into_iter()
                .map(|t| (t.schema(), t.as_str().to_string()))
                .collect();
            schemas.push((PLATFORM_SCHEMA.to_string(), "platform".to_string()));
            let now = Instant::now();
            for (schema, label) in &schemas {
                if retry_at.get(schema).is_some_and(|(at, _)| *at > now) {
                    continue;
                }
                loop {
                    // A send to a dead broker waits up to `message.timeout.ms`; at shutdown,
                    // abandon it: its transaction rolls back and the rows stay for the next
                    // relay (at least once, with the same ce_id).
                    let drained = tokio::select! {
                        _ = shutdown.wait() => return Ok(()),
                        d = self.drain_once(schema) => d,
                    };
                    match drained {
                        Ok(0) => {
                            retry_at.remove(schema);
                            self.metrics
                                .outbox_pending
                                .with_label_values(&[label])
                                .set(0);
                            self.metrics
                                .outbox_oldest_seconds
                                .with_label_values(&[label])
                                .set(0.0);
                            break;
                        }
                        Ok(n) => {
                            self.metrics
                                .outbox_published
                                .with_label_values(&[label])
                                .inc_by(n as u64);
                        }
                        Err(e) => {
                            let delay = retry_at
                                .get(schema)
                                .map_or(self.poll, |(_, d)| (*d * 2).min(Duration::from_secs(5)));
                            tracing::warn!(tenant = %label, error = %e, retry_in_ms = delay.as_millis() as u64, "outbox relay: publish failed; will retry");
                            retry_at.insert(schema.clone(), (Instant::now() + delay, delay));
                            break;
                        }
                    }
                    if shutdown.is_triggered() {
                        return Ok(());
                    }
                }
            }
            let next_retry = retry_at
                .values()
                .map(|(at, _)| at.saturating_duration_since(Instant::now()))
                .min();
            let sleep = next_retry.map_or(self.poll, |d| d.min(self.poll));
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = self.wake.notified() => {
                    tokio::select! {
                        _ = shutdown.wait() => return Ok(()),
                        _ = tokio::time::sleep(self.linger) => {}
                    }
                }
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    /// Sets `tessera_outbox_pending` for every ready tenant every [`PENDING_EVERY`]: a send to
    /// a dead broker can hold the relay itself for `message.timeout.ms`, and the backlog is
    /// what operators watch then (`docs/runbooks/broker-outage.md`).
    async fn sample_pending(self, shutdown: Shutdown) {
        loop {
            for tenant in self.registry.ready_tenants() {
                if let Ok((n, age)) = self.pending(&tenant.schema()).await {
                    self.metrics
                        .outbox_pending
                        .with_label_values(&[tenant.as_str()])
                        .set(n);
                    self.metrics
                        .outbox_oldest_seconds
                        .with_label_values(&[tenant.as_str()])
                        .set(age);
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(PENDING_EVERY) => {}
            }
        }
    }

    /// The rows waiting in `schema`'s outbox, and the oldest one's age in seconds.
    async fn pending(&self, schema: &str) -> Result<(i64, f64), sea_orm::DbErr> {
        let row = self
            .db
            .raw()
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT count(*) AS n,
                            COALESCE(EXTRACT(EPOCH FROM now() - min(ce_time)), 0)::float8 AS age
                     FROM \"{schema}\".outbox"
                ),
            ))
            .await?;
        Ok(row
            .map(|r| {
                (
                    r.try_get("", "n").unwrap_or(0),
                    r.try_get::<f64>("", "age").unwrap_or(0.0).max(0.0),
                )
            })
            .unwrap_or((0, 0.0)))
    }

    /// Publishes one batch from `schema`; returns how many rows it published.
    async fn drain_once(&self, schema: &str) -> Result<usize, JobError> {
        let txn = self.db.raw().begin().await?;
        txn.execute_unprepared(&format!("SET LOCAL search_path TO \"{schema}\""))
            .await?;
        let locked = txn
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked",
                [format!("tessera-outbox:{schema}").into()],
            ))
            .await?
            .and_then(|r| r.try_get::<bool>("", "locked").ok())
            .unwrap_or(false);
        if !locked {
            return Ok(0);
        }
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT seq, event_id, topic, msg_key, ce_type, ce_source, ce_subject,
                    to_char(ce_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS ce_time,
                    traceparent, payload
             FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
            [BATCH.into()],
        ))
        .all(&txn)
        .await
        ?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Send all, then await all: with one request in flight, per-partition order holds.
        let events = rows
            .iter()
            .map(|r| crate::pack::Outgoing {
                headers: CloudEventHeaders {
                    id: r.event_id.to_string(),
                    r#type: r.ce_type.clone(),
                    source: r.ce_source.clone(),
                    time: r.ce_time.clone(),
                    subject: r.ce_subject.clone(),
                    traceparent: r.traceparent.clone(),
                },
                topic: &r.topic,
                key: &r.msg_key,
                payload: &r.payload,
            })
            .collect();
        let wire = crate::pack::pack(events, &self.packed);
        let sends = wire.iter().map(|w| {
            self.producer.send(
                FutureRecord::to(&w.topic)
                    .key(&w.key)
                    .payload(&w.payload)
                    .headers(w.headers.to_kafka()),
                Duration::from_secs(0),
            )
        });
        let results = futures::future::join_all(sends).await;
        if let Some(Err((e, _))) = results.into_iter().find(Result::is_err) {
            // Nothing is deleted: the whole batch is retried. Anything that did reach the
            // broker is sent again with the same ce_id, and consumers' inboxes drop it.
            return Err(e.into());
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM outbox WHERE seq = ANY($1)",
            [seqs.into()],
        ))
        .await?;
        txn.commit().await?;
        Ok(rows.len())
    }
}
