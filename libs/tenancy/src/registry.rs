use crate::JobError;
use crate::TenantId;
use futures::future::BoxFuture;
use prost::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tessera_proto::tenancy::v1::TenantRecord;

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
    /// The idempotent producer (`enable.idempotence`); on against Kafka, off against the
    /// local broker (ADR 19).
    pub idempotence: bool,
    /// Whether `/readyz` fails while the broker is away. Off: the service keeps serving
    /// through its outbox and reports itself `degraded` (ADR 19).
    pub required_for_readiness: bool,
    /// Streams (`<service>.<stream>`) whose events the relay packs into one `EventBatch`
    /// message per topic and publish (ADR 19): where the volume is. Consumers unpack them
    /// whatever this says.
    pub packed_streams: Vec<String>,
    /// The most a consumer fetches from one partition in one request. Large, so that a
    /// consumer behind catches up in one fetch: tansu 0.6.0 reads every record from the
    /// fetch offset to the high watermark on each fetch, so catching up in 1 MiB steps
    /// (librdkafka's default) costs the square of the lag (ADR 19).
    pub fetch_max_partition_bytes: u32,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            partitions: 3,
            replication: 1,
            tenants_topic: TENANTS_TOPIC.into(),
            idempotence: true,
            required_for_readiness: false,
            packed_streams: vec!["audit.events".into()],
            fetch_max_partition_bytes: 32 << 20,
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

    /// A consumer's settings: fetches large enough to catch up at once
    /// (`fetch_max_partition_bytes`), a whole response at most twice that.
    pub fn consumer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        let partition = self.fetch_max_partition_bytes.max(1 << 20);
        let total = partition.saturating_mul(2);
        c.set("max.partition.fetch.bytes", partition.to_string())
            .set("fetch.max.bytes", total.to_string())
            .set(
                "receive.message.max.bytes",
                total.saturating_add(1 << 20).to_string(),
            );
        c
    }

    /// A producer's settings: `acks=all`, and the idempotent producer unless this environment
    /// turns it off (ADR 19: the local broker, tansu 0.6.0, fails on its idempotent path;
    /// production against Kafka keeps it on, and consumers de-duplicate through the inbox
    /// either way).
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("acks", "all").set(
            "enable.idempotence",
            if self.idempotence { "true" } else { "false" },
        );
        c
    }

    /// Creates each topic that does not exist yet. Safe to repeat and to race.
    pub async fn ensure_topics(&self, topics: &[String], compact: bool) -> Result<(), JobError> {
        if topics.is_empty() {
            return Ok(());
        }
        let admin: AdminClient<DefaultClientContext> = self.client_config().create()?;
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
        let results = admin.create_topics(&new, &opts).await?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(JobError::Topic {
                        topic,
                        code: code.to_string(),
                    })
                }
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

/// What a service does when a tenant appears. Both halves must be idempotent: they run on
/// every start, on every replica, and the topics again whenever the broker may have lost them.
pub trait Provisioner: Send + Sync + 'static {
    /// The database half: create and migrate the tenant's schema. The tenant is served once
    /// this succeeds, broker or not (events wait in the outbox).
    fn provision<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<(), JobError>>;

    /// The broker half: the tenant topics this service publishes on. Ensured after
    /// `provision`, retried until the broker answers, and re-ensured periodically (a rebuilt
    /// broker has none).
    fn tenant_topics(&self, _tenant: &TenantId) -> Vec<String> {
        Vec::new()
    }

    /// Topics outside any tenant that this service writes to (e.g. the platform audit
    /// topic); ensured like tenant topics.
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
    /// The tenants recorded in this service's own database have been applied (ADR 19).
    recalled: AtomicBool,
    /// Ready tenants whose topics the topic keeper has seen exist.
    topics: RwLock<std::collections::BTreeSet<TenantId>>,
    /// Each trust's own rate-limit budget, from its record's settings.
    rate_limits: RwLock<BTreeMap<TenantId, u32>>,
}

/// How far this service has come with one trust: what `/tenants/{ods}` on the management
/// port answers, and what the tenant operator writes into the `Trust`'s status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantReport {
    pub ods_code: String,
    /// `provisioning`, `ready`, `failed`, `suspended`, `not-served` or `unknown`.
    pub state: &'static str,
    /// The trust's schema exists and is migrated to this build's migrations.
    pub migrated: bool,
    /// The trust's topics exist on the broker.
    pub topics: bool,
    /// Why provisioning failed (retried with back-off), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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

    /// True once the feed has read every tenant record that existed when it started. Until
    /// then a tenant this service does not know may just not be read yet: the gate answers
    /// 503 with `Retry-After`, never a permanent refusal.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    /// True once the tenants recorded in this service's database are applied: enough to
    /// serve them (and be ready) while the broker is away.
    pub fn recalled(&self) -> bool {
        self.recalled.load(Ordering::Acquire) || self.caught_up()
    }

    pub(crate) fn mark_recalled(&self) {
        self.recalled.store(true, Ordering::Release);
    }

    /// The trust's own rate-limit budget, where its record sets one.
    pub fn rate_limit(&self, tenant: &TenantId) -> Option<u32> {
        self.rate_limits.read().ok()?.get(tenant).copied()
    }

    pub(crate) fn set_rate_limit(&self, tenant: &TenantId, budget: Option<u32>) {
        if let Ok(mut m) = self.rate_limits.write() {
            match budget {
                Some(b) => m.insert(tenant.clone(), b),
                None => m.remove(tenant),
            };
        }
    }

    /// Records that every topic of `tenants` exists.
    pub(crate) fn mark_topics(&self, tenants: &[TenantId]) {
        if let Ok(mut s) = self.topics.write() {
            s.extend(tenants.iter().cloned());
        }
    }

    /// What this service can say of `tenant`.
    pub fn report(&self, tenant: &TenantId) -> TenantReport {
        let topics = self.topics.read().is_ok_and(|s| s.contains(tenant));
        let (state, migrated, error) = match self.state(tenant) {
            Some(TenantState::Provisioning) => ("provisioning", false, None),
            Some(TenantState::Ready) => ("ready", true, None),
            Some(TenantState::Failed(e)) => ("failed", false, Some(e)),
            Some(TenantState::Suspended) => ("suspended", false, None),
            None if self.is_not_served(tenant) => ("not-served", false, None),
            None => ("unknown", false, None),
        };
        TenantReport {
            ods_code: tenant.to_string(),
            state,
            migrated,
            topics: topics && migrated,
            error,
        }
    }

    pub fn set(&self, tenant: TenantId, state: TenantState) {
        if let Ok(mut m) = self.tenants.write() {
            m.insert(tenant, state);
        }
    }

    pub(crate) fn mark_caught_up(&self) {
        self.caught_up.store(true, Ordering::Release);
    }
}

/// Publishes a tenant record (onboarding, suspension). The operator calls this for a `Trust`
/// resource; locally `cargo xtask onboard` does.
pub async fn publish_tenant(
    settings: &KafkaSettings,
    record: &TenantRecord,
) -> Result<(), JobError> {
    settings
        .ensure_topics(std::slice::from_ref(&settings.tenants_topic), true)
        .await?;
    let producer: FutureProducer = settings
        .producer_config()
        .set("message.timeout.ms", "15000")
        .create()?;
    let payload = record.encode_to_vec();
    producer
        .send(
            FutureRecord::to(&settings.tenants_topic)
                .key(&record.ods_code)
                .payload(&payload),
            Duration::from_secs(15),
        )
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}
