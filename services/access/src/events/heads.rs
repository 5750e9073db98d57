//! The audit chain's heads, published outside the database (ADR 14): every few seconds, each
//! trust's newest `(seq, hash)` goes to `tessera.<ods>.audit.heads` when it has moved. Verify
//! compares the stored chain with the newest published head, so records removed from the end
//! — invisible to the chain itself — are found. The window is the publication interval.
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_proto::audit::v1::ChainHead;
use tessera_tenancy::{JobError, KafkaSettings, TenantDb, TenantId, TenantRegistry};

pub struct HeadPublisher {
    pub db: TenantDb,
    pub registry: Arc<TenantRegistry>,
    pub kafka: KafkaSettings,
    pub every: Duration,
}

impl HeadPublisher {
    pub async fn run(self, shutdown: Shutdown) -> Result<(), JobError> {
        let producer: FutureProducer = self
            .kafka
            .producer_config()
            // A head not delivered in 10 s is sent again at the next tick.
            .set("message.timeout.ms", "10000")
            .create()?;
        let mut published: HashMap<TenantId, i64> = HashMap::new();
        loop {
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = tokio::time::sleep(self.every) => {}
            }
            for tenant in self.registry.ready_tenants() {
                match self.head(&tenant).await {
                    Ok(Some((seq, hash))) if published.get(&tenant) != Some(&seq) => {
                        let payload = ChainHead {
                            seq,
                            hash,
                            published_at: crate::store::rfc3339(chrono::Utc::now()),
                        }
                        .encode_to_vec();
                        let topic = tenant.topic("audit", "heads");
                        let send = producer.send(
                            FutureRecord::to(&topic).key("head").payload(&payload),
                            Duration::from_secs(5),
                        );
                        // A dead broker must not hold up shutdown (ADR 19).
                        let sent = tokio::select! {
                            _ = shutdown.wait() => return Ok(()),
                            sent = send => sent,
                        };
                        match sent {
                            Ok(_) => {
                                published.insert(tenant, seq);
                            }
                            Err((e, _)) => {
                                tracing::warn!(tenant = %tenant, error = %e, "chain head not published; retrying")
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(tenant = %tenant, error = %e, "chain head not read"),
                }
            }
        }
    }

    async fn head(&self, tenant: &TenantId) -> Result<Option<(i64, String)>, JobError> {
        let txn = self.db.begin(tenant).await?;
        let row = txn
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                "SELECT seq, hash FROM audit_store ORDER BY seq DESC LIMIT 1",
            ))
            .await?;
        txn.commit().await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let seq: i64 = r.try_get("", "seq")?;
                let hash: Vec<u8> = r.try_get("", "hash")?;
                Ok(Some((seq, hex::encode(hash))))
            }
        }
    }
}

/// The heads published for `tenant`, the newest `limit` of each partition, or an error if the
/// broker did not answer in time.
pub async fn published_heads(
    kafka: &KafkaSettings,
    tenant: &TenantId,
    limit: i64,
) -> Result<Vec<ChainHead>, JobError> {
    let kafka = kafka.clone();
    let topic = tenant.topic("audit", "heads");
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka
            .client_config()
            .set(
                "group.id",
                format!("access-verify-{}", uuid::Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .create()?;
        let md = consumer.fetch_metadata(Some(&topic), Duration::from_secs(5))?;
        let mut tpl = TopicPartitionList::new();
        let mut wanted: i64 = 0;
        for p in md.topics().iter().flat_map(|t| t.partitions()) {
            let (low, high) = consumer.fetch_watermarks(&topic, p.id(), Duration::from_secs(5))?;
            if high > low {
                let from = low.max(high - limit);
                tpl.add_partition_offset(&topic, p.id(), Offset::Offset(from))?;
                wanted += high - from;
            }
        }
        let mut heads = Vec::new();
        if wanted == 0 {
            return Ok(heads);
        }
        consumer.assign(&tpl)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut got: i64 = 0;
        while got < wanted && std::time::Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                got += 1;
                if let Ok(h) = ChainHead::decode(m.payload().unwrap_or_default()) {
                    heads.push(h);
                }
            }
        }
        if got < wanted {
            return Err(JobError::Timeout(
                "the broker did not return the published heads in time",
            ));
        }
        Ok(heads)
    })
    .await?
}
