//! Consumers. Each message's effect and its inbox row commit in the tenant's schema — what
//! has already arrived of one tenant's messages in one transaction (`apply`) — and offsets are
//! stored only after that commit. Redelivery (a crash before the commit of the offset, a relay
//! retry) finds the inbox row and changes nothing.
use crate::apply;
use crate::one::{apply_one, Where};
use crate::HandlerError;
use futures::future::BoxFuture;
use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use sea_orm::DatabaseTransaction;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::{Metrics, Shutdown, TraceContext};
use tessera_tenancy::JobError;
use tessera_tenancy::{KafkaSettings, TenantDb, TenantId, TenantRegistry};
use uuid::Uuid;

/// Whether a receive failed only because a subscribed topic does not exist (yet).
fn is_missing_topic(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(C::UnknownTopicOrPartition | C::UnknownTopic)
    )
}

/// How long a stopping consumer waits to commit and leave its group.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// The most messages applied in one transaction (ADR 19).
const MAX_BATCH: usize = 500;

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
    ) -> BoxFuture<'a, Result<(), HandlerError>>;

    /// Runs once at the start of each transaction, before its events: where a handler takes
    /// what the whole run needs once (the audit store's chain lock) instead of per event.
    fn begin<'a>(
        &'a self,
        _txn: &'a DatabaseTransaction,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async { Ok(()) })
    }
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

/// Sums librdkafka's per-partition `consumer_lag` (the broker's high watermark minus this
/// group's position) over every partition this member consumes into
/// `tessera_consumer_lag_messages{stream}`: what the consumer-lag alert and the audit-store lag
/// panel read (the access service's `audit.events` stream is the audit store's intake).
pub struct LagContext(prometheus::IntGauge);

impl rdkafka::ClientContext for LagContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        let lag: i64 = statistics
            .topics
            .values()
            .flat_map(|t| t.partitions.values())
            .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        self.0.set(lag);
    }
}

impl rdkafka::consumer::ConsumerContext for LagContext {}

pub async fn run_consumer(
    kafka: KafkaSettings,
    spec: ConsumerSpec,
    db: TenantDb,
    registry: Arc<TenantRegistry>,
    handler: Arc<dyn Handler>,
    metrics: Metrics,
    shutdown: Shutdown,
) -> Result<(), JobError> {
    let stream_label = format!("{}.{}", spec.service, spec.stream);
    let lag = LagContext(
        metrics
            .consumer_lag
            .with_label_values(&[stream_label.as_str()]),
    );
    let consumer: StreamConsumer<LagContext> = kafka
        .consumer_config()
        .set("group.id", &spec.group)
        // librdkafka's statistics every 10 s: the consumer's lag (`LagContext`).
        .set("statistics.interval.ms", "10000")
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Long enough that a broker or a host busy for a few seconds does not expire a live
        // member (Kafka's own default is 45 s). tansu 0.6.0 may give a member that rejoins
        // after expiring no partitions at all (fixed after 0.6.0), so an expiry must be rare.
        .set("session.timeout.ms", "30000")
        .set("heartbeat.interval.ms", "3000")
        .set("topic.metadata.refresh.interval.ms", "2000")
        .create_with_context(lag)?;
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
    consumer.subscribe(&topics)?;
    let count = |outcome: &str| {
        metrics
            .events_consumed
            .with_label_values(&[stream_label.as_str(), outcome])
            .inc();
    };
    let mut waiting_for_topics = false;
    // Trusts whose messages waited once and whose tenant record never came (`apply_one`).
    let mut given_up: HashSet<TenantId> = HashSet::new();
    loop {
        let first = tokio::select! {
            _ = shutdown.wait() => break,
            m = consumer.recv() => m,
        };
        let first = match first {
            Ok(m) => m.detach(),
            Err(e) if is_missing_topic(&e) => {
                // Expected until the producing service is deployed and has made its topics:
                // said once, not every half second (nobody should be paged for it).
                if !waiting_for_topics {
                    tracing::info!(group = %spec.group, error = %e, "a subscribed topic does not exist yet; waiting for its service");
                    waiting_for_topics = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "consumer receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        // Whatever else has already arrived joins it, up to MAX_BATCH, without waiting.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match consumer.recv().now_or_never() {
                Some(Ok(m)) => batch.push(m.detach()),
                _ => break,
            }
        }
        let mut stopping = false;
        for (tenant, group) in by_tenant(batch) {
            if let (Some(tenant), true) = (&tenant, group.len() > 1) {
                match apply::process_batch(
                    &db,
                    &registry,
                    handler.as_ref(),
                    &spec.group,
                    tenant,
                    &group,
                )
                .await
                {
                    Ok(outcomes) => {
                        outcomes.iter().for_each(|o| count(o.label()));
                        for m in &group {
                            store(&consumer, m)?;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "batch not applied; applying its events one at a time")
                    }
                }
            }
            for msg in &group {
                let on = Where {
                    db: &db,
                    registry: &registry,
                    handler: handler.as_ref(),
                    spec: &spec,
                };
                if !apply_one(on, msg, &count, &shutdown, &mut given_up).await {
                    stopping = true;
                    break;
                }
                store(&consumer, msg)?;
            }
            if stopping {
                // What was not applied is not stored: it is delivered again.
                break;
            }
        }
        if stopping {
            break;
        }
    }
    commit_and_stop(consumer).await
}

/// Marks `msg` consumed: its offset is committed with the next (auto) commit. When the
/// partition was taken from this member while the message was applied (a rebalance: new
/// trusts' topics matched the subscription, or another replica joined), librdkafka refuses
/// the offset with `State`; the partition's new owner is redelivered the message and its
/// inbox drops it as already applied. That is no reason to stop the service (found
/// onboarding 200 trusts under load: the MPI stopped on it).
fn store(consumer: &StreamConsumer<LagContext>, msg: &OwnedMessage) -> Result<(), JobError> {
    match consumer.store_offset(msg.topic(), msg.partition(), msg.offset()) {
        Err(rdkafka::error::KafkaError::StoreOffset(rdkafka::types::RDKafkaErrorCode::State)) => {
            tracing::info!(topic = msg.topic(), partition = msg.partition(), "partition no longer assigned here; its new owner applies the message (inbox de-duplicates)");
            Ok(())
        }
        r => Ok(r?),
    }
}

/// Splits a batch into runs per tenant (in order of first appearance; each tenant's messages
/// keep their order). Messages on a topic of no tenant form runs of their own (`None`).
fn by_tenant(batch: Vec<OwnedMessage>) -> Vec<(Option<TenantId>, Vec<OwnedMessage>)> {
    let mut groups: Vec<(Option<TenantId>, Vec<OwnedMessage>)> = Vec::new();
    for m in batch {
        let tenant = TenantId::from_topic(m.topic());
        match groups.iter_mut().find(|(t, _)| t.is_some() && *t == tenant) {
            Some((_, g)) => g.push(m),
            None => groups.push((tenant, vec![m])),
        }
    }
    groups
}

/// Commits the stored offsets and leaves the group, on a thread of its own, waiting at most
/// [`CLOSE_WAIT`]: with the broker away, librdkafka's close blocks for up to the session
/// timeout, and a pod must stop within its grace period. Offsets not committed then are
/// redelivered to the next member, whose inbox drops what was already applied.
async fn commit_and_stop(consumer: StreamConsumer<LagContext>) -> Result<(), JobError> {
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
                Err(e) => Err(JobError::from(e)),
            };
            drop(consumer);
            let _ = done.send(committed);
        });
    if let Err(e) = spawned {
        return Err(JobError::Io(e));
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

#[cfg(test)]
mod tests {
    use super::is_missing_topic;
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as C;

    #[test]
    fn a_topic_not_made_yet_is_told_apart_from_a_failure() {
        assert!(is_missing_topic(&KafkaError::MessageConsumption(
            C::UnknownTopicOrPartition
        )));
        assert!(is_missing_topic(&KafkaError::MessageConsumption(
            C::UnknownTopic
        )));
        assert!(!is_missing_topic(&KafkaError::MessageConsumption(
            C::BrokerTransportFailure
        )));
    }
}
