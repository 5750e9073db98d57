//! Consumers. Each message's effect and its inbox row commit in the tenant's schema — what
//! has already arrived of one tenant's messages in one transaction (`apply`) — and offsets are
//! stored only after that commit. Redelivery (a crash before the commit of the offset, a relay
//! retry) finds the inbox row and changes nothing.
use crate::apply;
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
use tessera_tenancy::{KafkaSettings, TenantDb, TenantId, TenantRegistry, TenantState};
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

pub async fn run_consumer(
    kafka: KafkaSettings,
    spec: ConsumerSpec,
    db: TenantDb,
    registry: Arc<TenantRegistry>,
    handler: Arc<dyn Handler>,
    metrics: Metrics,
    shutdown: Shutdown,
) -> Result<(), JobError> {
    let consumer: StreamConsumer = kafka
        .consumer_config()
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
        .create()?;
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
    let stream_label = format!("{}.{}", spec.service, spec.stream);
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
fn store(consumer: &StreamConsumer, msg: &OwnedMessage) -> Result<(), JobError> {
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

/// Where a consumer applies its messages.
#[derive(Clone, Copy)]
struct Where<'a> {
    db: &'a TenantDb,
    registry: &'a TenantRegistry,
    handler: &'a dyn Handler,
    spec: &'a ConsumerSpec,
}

/// Applies one message, retrying until `spec.max_attempts`, then dead-letters it. Returns
/// `false` if shutdown came first (the message is then neither applied nor stored).
async fn apply_one(
    on: Where<'_>,
    msg: &OwnedMessage,
    count: &impl Fn(&str),
    shutdown: &Shutdown,
    given_up: &mut HashSet<TenantId>,
) -> bool {
    let Where {
        db,
        registry,
        handler,
        spec,
    } = on;
    let tenant = TenantId::from_topic(msg.topic());
    let unknown = |t: &TenantId| registry.state(t).is_none() && !registry.is_not_served(t);
    if let Some(t) = &tenant {
        if given_up.contains(t) && unknown(t) {
            // A trust waited for once and still unknown here: its later messages are kept
            // aside at once, not waited for one by one (each would hold the topics behind it).
            count("dead_letter");
            let why = "the trust is not known to this deployment";
            if apply::dead_letter(db, &spec.group, msg, why).await.is_ok() {
                return true;
            }
        } else {
            given_up.remove(t);
        }
    }
    if !wait_for_provisioning(registry, msg, shutdown).await {
        return false;
    }
    if let Some(t) = tenant.filter(|t| unknown(t)) {
        tracing::warn!(tenant = %t, topic = msg.topic(), "a trust this deployment does not know: its messages go to the platform's dead letters");
        given_up.insert(t);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match apply::process(db, registry, handler, &spec.group, msg).await {
            Ok(outcomes) => {
                outcomes.iter().for_each(|o| count(o.label()));
                return true;
            }
            Err(e) if attempt >= spec.max_attempts => {
                tracing::error!(topic = msg.topic(), offset = msg.offset(), error = %e, "event dead-lettered");
                count("dead_letter");
                if let Err(e2) = apply::dead_letter(db, &spec.group, msg, &e).await {
                    // Could not even record it: do not move past it.
                    tracing::error!(error = %e2, "dead-letter write failed; retrying the event");
                    attempt = 0;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                return true;
            }
            Err(e) => {
                tracing::warn!(topic = msg.topic(), offset = msg.offset(), attempt, error = %e, "event failed; retrying");
                tokio::select! {
                    _ = shutdown.wait() => return false,
                    _ = tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))) => {}
                }
            }
        }
    }
}

/// How long a message waits for its trust to be provisioned here before its attempts begin:
/// a trust this service is migrating, and a trust it has not heard of yet (its tenant record
/// is on its way; a topic of no trust at all must not hold the consumer up for long). Well
/// inside librdkafka's `max.poll.interval.ms` (300 s), past which the member leaves its group.
const PROVISIONING_WAIT: Duration = Duration::from_secs(120);
const UNKNOWN_TRUST_WAIT: Duration = Duration::from_secs(30);

/// A trust onboarded a moment ago: its events can arrive before this service has migrated the
/// trust's schema (the publisher learnt of the trust from the same tenants topic, a little
/// earlier). Such a message waits — spending no attempts, so it is not dead-lettered for
/// arriving early — while the trust is unknown, provisioning or failing to provision, for up
/// to [`PROVISIONING_WAIT`] ([`UNKNOWN_TRUST_WAIT`] while unknown). Returns `false` if
/// shutdown came first.
async fn wait_for_provisioning(
    registry: &TenantRegistry,
    msg: &OwnedMessage,
    shutdown: &Shutdown,
) -> bool {
    let Some(tenant) = TenantId::from_topic(msg.topic()) else {
        return true;
    };
    let started = std::time::Instant::now();
    let pending = || {
        if registry.is_not_served(&tenant) {
            return false;
        }
        match registry.state(&tenant) {
            None => started.elapsed() < UNKNOWN_TRUST_WAIT,
            Some(TenantState::Provisioning | TenantState::Failed(_)) => {
                started.elapsed() < PROVISIONING_WAIT
            }
            Some(_) => false,
        }
    };
    if pending() {
        tracing::info!(tenant = %tenant, topic = msg.topic(), "event for a trust not provisioned here yet; waiting for it");
    }
    while pending() {
        tokio::select! {
            _ = shutdown.wait() => return false,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    true
}

/// Commits the stored offsets and leaves the group, on a thread of its own, waiting at most
/// [`CLOSE_WAIT`]: with the broker away, librdkafka's close blocks for up to the session
/// timeout, and a pod must stop within its grace period. Offsets not committed then are
/// redelivered to the next member, whose inbox drops what was already applied.
async fn commit_and_stop(consumer: StreamConsumer) -> Result<(), JobError> {
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
