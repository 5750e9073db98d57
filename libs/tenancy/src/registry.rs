use crate::TenantId;
use futures::future::BoxFuture;
use prost::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_proto::tenancy::v1::{TenantRecord, TenantStatus};

/// The default compacted topic of tenant records, keyed by ODS code.
pub const TENANTS_TOPIC: &str = "tessera.platform.tenants";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KafkaSettings {
    /// `host:port,host:port`
    pub brokers: String,
    /// Partitions for each new tenant topic.
    pub partitions: i32,
    pub replication: i32,
    /// The compacted topic of tenant records. Tests use their own, so a developer's local
    /// platform never sees (or provisions) test tenants on a shared broker.
    pub tenants_topic: String,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            partitions: 3,
            replication: 1,
            tenants_topic: TENANTS_TOPIC.into(),
        }
    }
}

impl KafkaSettings {
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("socket.timeout.ms", "10000")
            .set("log_level", "3");
        c
    }

    /// Creates each topic that does not exist yet. Safe to repeat and to race.
    pub async fn ensure_topics(&self, topics: &[String], compact: bool) -> Result<(), String> {
        if topics.is_empty() {
            return Ok(());
        }
        let admin: AdminClient<DefaultClientContext> =
            self.client_config().create().map_err(|e| e.to_string())?;
        // Create only what is missing: creating topics is the slow, contended admin path (on
        // tansu 0.6 concurrent CreateTopics of existing topics can stall for seconds).
        let existing = existing_topics(self.client_config()).await;
        let missing: Vec<&String> = topics.iter().filter(|t| !existing.contains(*t)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let partitions = if compact { 1 } else { self.partitions };
        let new: Vec<NewTopic> = missing
            .into_iter()
            .map(|t| {
                let nt = NewTopic::new(t, partitions, TopicReplication::Fixed(self.replication));
                if compact {
                    nt.set("cleanup.policy", "compact")
                } else {
                    nt
                }
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin
            .create_topics(&new, &opts)
            .await
            .map_err(|e| e.to_string())?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => return Err(format!("creating {topic}: {code}")),
            }
        }
        Ok(())
    }
}

/// Topic names the cluster has now (empty when the metadata cannot be read: the caller then
/// creates everything, and "already exists" answers are fine).
async fn existing_topics(config: rdkafka::ClientConfig) -> std::collections::HashSet<String> {
    let read = tokio::task::spawn_blocking(move || {
        let client: rdkafka::consumer::BaseConsumer = config.create().ok()?;
        let md = rdkafka::consumer::Consumer::fetch_metadata(&client, None, Duration::from_secs(5))
            .ok()?;
        Some(
            md.topics()
                .iter()
                .filter(|t| t.error().is_none() && !t.partitions().is_empty())
                .map(|t| t.name().to_string())
                .collect(),
        )
    })
    .await;
    read.ok().flatten().unwrap_or_default()
}

/// What a service does when a tenant appears: create and migrate its schema, create its
/// topics. Must be idempotent: it runs on every start, on every replica.
pub trait Provisioner: Send + Sync + 'static {
    fn provision<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<(), String>>;

    /// Topics outside any tenant that this service writes to (e.g. the platform audit
    /// topic); the registry feed creates them at start.
    fn platform_topics(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether this deployment serves `tenant` at all (see `tenancy.only`).
    fn serves(&self, _tenant: &TenantId) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum TenantState {
    Provisioning,
    Ready,
    /// Provisioning failed; it is retried with back-off.
    Failed(String),
    Suspended,
}

/// The tenants this process knows and how far each is provisioned.
#[derive(Default)]
pub struct TenantRegistry {
    tenants: RwLock<BTreeMap<TenantId, TenantState>>,
    /// Tenants on the tenants topic that this deployment does not serve (`tenancy.only`):
    /// consumers skip their events instead of waiting for them to be provisioned.
    not_served: RwLock<std::collections::BTreeSet<TenantId>>,
    caught_up: AtomicBool,
}

impl TenantRegistry {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn state(&self, tenant: &TenantId) -> Option<TenantState> {
        self.tenants.read().ok()?.get(tenant).cloned()
    }

    /// Whether the tenants topic named `tenant` and this deployment does not serve it.
    pub fn is_not_served(&self, tenant: &TenantId) -> bool {
        self.not_served
            .read()
            .map(|s| s.contains(tenant))
            .unwrap_or(false)
    }

    pub fn mark_not_served(&self, tenant: TenantId) {
        if let Ok(mut s) = self.not_served.write() {
            s.insert(tenant);
        }
    }

    pub fn is_ready(&self, tenant: &TenantId) -> bool {
        self.state(tenant) == Some(TenantState::Ready)
    }

    pub fn ready_tenants(&self) -> Vec<TenantId> {
        self.snapshot()
            .into_iter()
            .filter(|(_, s)| *s == TenantState::Ready)
            .map(|(t, _)| t)
            .collect()
    }

    pub fn snapshot(&self) -> Vec<(TenantId, TenantState)> {
        self.tenants
            .read()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// True once the feed has read every tenant record that existed when it started.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    pub fn set(&self, tenant: TenantId, state: TenantState) {
        if let Ok(mut m) = self.tenants.write() {
            m.insert(tenant, state);
        }
    }

    fn mark_caught_up(&self) {
        self.caught_up.store(true, Ordering::Release);
    }
}

/// Publishes a tenant record (onboarding, suspension). The operator calls this for a `Trust`
/// resource; locally `cargo xtask onboard` does.
pub async fn publish_tenant(settings: &KafkaSettings, record: &TenantRecord) -> Result<(), String> {
    settings
        .ensure_topics(std::slice::from_ref(&settings.tenants_topic), true)
        .await?;
    let producer: FutureProducer = settings
        .client_config()
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "15000")
        .create()
        .map_err(|e| e.to_string())?;
    let payload = record.encode_to_vec();
    producer
        .send(
            FutureRecord::to(&settings.tenants_topic)
                .key(&record.ods_code)
                .payload(&payload),
            Duration::from_secs(15),
        )
        .await
        .map_err(|(e, _)| e.to_string())?;
    Ok(())
}

/// Reads the tenants topic from the beginning (every replica reads all of it: no consumer
/// group), keeps `registry` current, and provisions each active tenant with `provisioner`,
/// retrying failures with back-off. Runs until `shutdown`.
pub async fn run_registry_feed(
    settings: KafkaSettings,
    registry: Arc<TenantRegistry>,
    provisioner: Arc<dyn Provisioner>,
    shutdown: Shutdown,
) -> Result<(), String> {
    // The broker may start after us: keep trying to create the topic until shutdown.
    let mut backoff = Duration::from_millis(200);
    loop {
        let ensured = match settings
            .ensure_topics(std::slice::from_ref(&settings.tenants_topic), true)
            .await
        {
            Ok(()) => {
                settings
                    .ensure_topics(&provisioner.platform_topics(), false)
                    .await
            }
            Err(e) => Err(e),
        };
        match ensured {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, "tenants topic not reachable yet");
                tokio::select! {
                    _ = shutdown.wait() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    let consumer: StreamConsumer = settings
        .client_config()
        .set(
            "group.id",
            format!("tenant-registry-{}", uuid::Uuid::new_v4()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(|e| e.to_string())?;
    let high = high_watermark(&settings)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&settings.tenants_topic, 0, Offset::Beginning)
        .map_err(|e| e.to_string())?;
    consumer.assign(&tpl).map_err(|e| e.to_string())?;
    if high == 0 {
        registry.mark_caught_up();
    }
    loop {
        let msg = tokio::select! {
            _ = shutdown.wait() => return Ok(()),
            m = consumer.recv() => m,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "tenants topic read failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let offset = msg.offset();
        match msg.payload().map(TenantRecord::decode) {
            Some(Ok(record)) => apply(&registry, &provisioner, &shutdown, record),
            Some(Err(e)) => {
                tracing::error!(offset, error = %e, "undecodable tenant record skipped")
            }
            None => {} // a tombstone: tenants are suspended, never deleted, so ignore it
        }
        if offset + 1 >= high {
            registry.mark_caught_up();
        }
    }
}

fn high_watermark(settings: &KafkaSettings) -> Result<i64, String> {
    let probe: BaseConsumer = settings
        .client_config()
        .set("group.id", "tenant-registry-probe")
        .create()
        .map_err(|e| e.to_string())?;
    let (_, high) = probe
        .fetch_watermarks(&settings.tenants_topic, 0, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    Ok(high)
}

fn apply(
    registry: &Arc<TenantRegistry>,
    provisioner: &Arc<dyn Provisioner>,
    shutdown: &Shutdown,
    record: TenantRecord,
) {
    let Ok(tenant) = TenantId::parse(&record.ods_code) else {
        tracing::error!(ods = %record.ods_code, "tenant record with an invalid ODS code skipped");
        return;
    };
    if !provisioner.serves(&tenant) {
        registry.mark_not_served(tenant);
        return;
    }
    if record.status == TenantStatus::Suspended as i32 {
        tracing::info!(tenant = %tenant, "tenant suspended");
        registry.set(tenant, TenantState::Suspended);
        return;
    }
    if registry.is_ready(&tenant) || registry.state(&tenant) == Some(TenantState::Provisioning) {
        return;
    }
    registry.set(tenant.clone(), TenantState::Provisioning);
    let (registry, provisioner, shutdown) =
        (registry.clone(), provisioner.clone(), shutdown.clone());
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            match provisioner.provision(&tenant).await {
                Ok(()) => {
                    tracing::info!(tenant = %tenant, "tenant provisioned");
                    registry.set(tenant, TenantState::Ready);
                    return;
                }
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "provisioning failed; will retry");
                    registry.set(tenant.clone(), TenantState::Failed(e));
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    });
}
