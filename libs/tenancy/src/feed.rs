//! The tenant registry feed (ADR 3, ADR 19). At start it serves the tenants this service
//! recorded in its own database, broker or not; then it reads the compacted tenants topic
//! from the beginning (every replica reads all of it: no consumer group), records and
//! provisions each tenant, and keeps every served tenant's topics in existence (a rebuilt
//! broker has none).
use crate::store::{self, StoredStatus};
use crate::{
    JobError, KafkaSettings, Provisioner, TenantDb, TenantId, TenantRegistry, TenantState,
};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_proto::tenancy::v1::{TenantRecord, TenantStatus};

/// How often the topics of every served tenant are checked (and created if missing).
const TOPIC_CHECK: Duration = Duration::from_secs(15);

/// Tenants provisioned at once. Each migration holds a connection of its own; a region's
/// 200 trusts recalled at start must not take more of the database's connections than the
/// serving pool leaves (the rolling upgrade across 200 schemas, issue 14).
const PROVISIONING_AT_ONCE: usize = 4;

#[derive(Clone)]
struct Feed {
    settings: KafkaSettings,
    registry: Arc<TenantRegistry>,
    provisioner: Arc<dyn Provisioner>,
    db: TenantDb,
    /// This service's name, as a tenant record's `services` list names it.
    service: &'static str,
    shutdown: Shutdown,
    provisioning: Arc<tokio::sync::Semaphore>,
    /// Rung when a tenant is provisioned: the topic keeper creates the topics of every
    /// tenant provisioned since its last pass in one batch (one metadata read, one
    /// CreateTopics), not one round trip per tenant — 200 trusts recalled at start.
    topics_due: Arc<tokio::sync::Notify>,
}

/// Runs the feed until `shutdown`. Never fails for a broker that is down: it waits for it.
pub async fn run_registry_feed(
    settings: KafkaSettings,
    registry: Arc<TenantRegistry>,
    provisioner: Arc<dyn Provisioner>,
    db: TenantDb,
    service: &'static str,
    shutdown: Shutdown,
) -> Result<(), JobError> {
    let feed = Feed {
        settings,
        registry,
        provisioner,
        db,
        service,
        shutdown,
        provisioning: Arc::new(tokio::sync::Semaphore::new(PROVISIONING_AT_ONCE)),
        topics_due: Arc::new(tokio::sync::Notify::new()),
    };
    feed.recall().await;
    tokio::spawn(feed.clone().keep_topics());
    let mut backoff = Duration::from_millis(200);
    loop {
        match feed.read_topic().await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "tenants topic not readable yet; serving the tenants recorded here");
                tokio::select! {
                    _ = feed.shutdown.wait() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

impl Feed {
    /// Serves every tenant recorded in this service's database, before the broker answers.
    async fn recall(&self) {
        match store::recall(&self.db, &self.settings.tenants_topic).await {
            Ok(known) => {
                for (tenant, status) in known {
                    self.apply(tenant, status);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "recorded tenants unreadable; waiting for the tenants topic")
            }
        }
        self.registry.mark_recalled();
    }

    /// Reads the topic from the beginning, then follows it. Returns `Ok` only at shutdown.
    async fn read_topic(&self) -> Result<(), JobError> {
        let s = &self.settings;
        s.ensure_topics(std::slice::from_ref(&s.tenants_topic), true)
            .await?;
        let consumer: StreamConsumer = s
            .consumer_config()
            .set(
                "group.id",
                format!("tenant-registry-{}", uuid::Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            // A rebuilt broker's topic starts again at 0: read it from there.
            .set("auto.offset.reset", "earliest")
            .create()?;
        let probe = s.clone();
        let high = tokio::task::spawn_blocking(move || high_watermark(&probe)).await??;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&s.tenants_topic, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        if high == 0 {
            self.registry.mark_caught_up();
        }
        loop {
            let msg = tokio::select! {
                _ = self.shutdown.wait() => return Ok(()),
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
                Some(Ok(record)) => self.record(record).await,
                Some(Err(e)) => {
                    tracing::error!(offset, error = %e, "undecodable tenant record skipped")
                }
                None => {} // a tombstone: tenants are suspended, never deleted, so ignore it
            }
            if offset + 1 >= high {
                self.registry.mark_caught_up();
            }
        }
    }

    /// A record from the topic: remembered here, then applied.
    async fn record(&self, record: TenantRecord) {
        let Ok(tenant) = TenantId::parse(&record.ods_code) else {
            tracing::error!(ods = %record.ods_code, "tenant record with an invalid ODS code skipped");
            return;
        };
        // A trust whose record lists the services serving it, without this one: not
        // provisioned here; suspended (its data kept) if this service served it before.
        let listed =
            record.services.is_empty() || record.services.iter().any(|s| s == self.service);
        if !listed && self.registry.state(&tenant).is_none() {
            self.registry.mark_not_served(tenant);
            return;
        }
        let status = if record.status == TenantStatus::Suspended as i32 || !listed {
            StoredStatus::Suspended
        } else {
            StoredStatus::Active
        };
        self.registry.set_rate_limit(
            &tenant,
            record.settings.and_then(|s| s.rate_limit_per_second),
        );
        if self.provisioner.serves(&tenant) {
            if let Err(e) =
                store::remember(&self.db, &self.settings.tenants_topic, &tenant, status).await
            {
                tracing::warn!(tenant = %tenant, error = %e, "could not record the tenant; it is served, but not across a restart without the broker");
            }
        }
        self.apply(tenant, status);
    }

    fn apply(&self, tenant: TenantId, status: StoredStatus) {
        let registry = &self.registry;
        if !self.provisioner.serves(&tenant) {
            registry.mark_not_served(tenant);
            return;
        }
        if status == StoredStatus::Suspended {
            tracing::info!(tenant = %tenant, "tenant suspended");
            registry.set(tenant, TenantState::Suspended);
            return;
        }
        if registry.is_ready(&tenant) || registry.state(&tenant) == Some(TenantState::Provisioning)
        {
            return;
        }
        registry.set(tenant.clone(), TenantState::Provisioning);
        tokio::spawn(self.clone().provision(tenant));
    }

    /// The schema first (then the tenant is served), then one try at its topics; the topic
    /// keeper retries those.
    async fn provision(self, tenant: TenantId) {
        let mut backoff = Duration::from_millis(250);
        loop {
            let provisioned = {
                let Ok(_permit) = self.provisioning.acquire().await else {
                    return; // closed: never, the feed owns it
                };
                self.provisioner.provision(&tenant).await
            };
            match provisioned {
                Ok(()) => {
                    tracing::info!(tenant = %tenant, "tenant provisioned");
                    self.registry.set(tenant.clone(), TenantState::Ready);
                    self.topics_due.notify_one();
                    return;
                }
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "provisioning failed; will retry");
                    self.registry
                        .set(tenant.clone(), TenantState::Failed(e.to_string()));
                }
            }
            tokio::select! {
                _ = self.shutdown.wait() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    /// Every `TOPIC_CHECK`, and whenever tenants were provisioned, makes sure the tenants topic, the platform topics and every ready
    /// tenant's topics exist: they may not after a broker outage that lost its storage.
    async fn keep_topics(self) {
        loop {
            let s = &self.settings;
            let mut tenant_topics = self.provisioner.platform_topics();
            let ready = self.registry.ready_tenants();
            for tenant in &ready {
                tenant_topics.extend(self.provisioner.tenant_topics(tenant));
            }
            let ensured = match s
                .ensure_topics(std::slice::from_ref(&s.tenants_topic), true)
                .await
            {
                Ok(()) => s.ensure_topics(&tenant_topics, false).await,
                Err(e) => Err(e),
            };
            match ensured {
                Ok(()) => self.registry.mark_topics(&ready),
                Err(e) => {
                    tracing::debug!(error = %e, "topics not checked: broker not answering")
                }
            }
            tokio::select! {
                _ = self.shutdown.wait() => return,
                _ = tokio::time::sleep(TOPIC_CHECK) => {}
                // A short pause gathers the tenants provisioned just after this one.
                _ = self.topics_due.notified() => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

fn high_watermark(settings: &KafkaSettings) -> Result<i64, JobError> {
    let probe: BaseConsumer = settings
        .client_config()
        .set("group.id", "tenant-registry-probe")
        .create()?;
    let (_, high) = probe.fetch_watermarks(&settings.tenants_topic, 0, Duration::from_secs(10))?;
    Ok(high)
}
