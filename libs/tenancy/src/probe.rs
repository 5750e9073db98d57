//! A real round trip through the broker: produce one message to the probe topic and read
//! that very message back. A broker that accepts connections and answers metadata but whose
//! storage has failed (tansu 0.6.0 after a storage panic) fails this probe (ADR 19).
use crate::KafkaSettings;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// Where probes go: a platform topic, one partition, read by nobody else.
pub const PROBE_TOPIC: &str = "tessera.platform.probe";

/// Produces a unique message and fetches it back within `timeout`; returns how long it took.
pub async fn probe(settings: &KafkaSettings, timeout: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let probe_settings = KafkaSettings {
        partitions: 1,
        ..settings.clone()
    };
    tokio::time::timeout(
        timeout,
        probe_settings.ensure_topics(&[PROBE_TOPIC.into()], false),
    )
    .await
    .map_err(|_| "the broker did not answer CreateTopics in time".to_string())??;
    let ms = timeout.as_millis().to_string();
    let producer: FutureProducer = settings
        .producer_config()
        .set("message.timeout.ms", &ms)
        .create()
        .map_err(|e| e.to_string())?;
    let token = uuid::Uuid::new_v4().to_string();
    let delivered = producer
        .send(
            FutureRecord::to(PROBE_TOPIC).key(&token).payload(&token),
            timeout,
        )
        .await
        .map_err(|(e, _)| format!("produce: {e}"))?;
    let (partition, offset) = (delivered.partition, delivered.offset);
    let left = timeout.saturating_sub(started.elapsed());
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || fetch_back(&settings, partition, offset, &token, left))
        .await
        .map_err(|e| e.to_string())??;
    Ok(started.elapsed())
}

fn fetch_back(
    settings: &KafkaSettings,
    partition: i32,
    offset: i64,
    token: &str,
    timeout: Duration,
) -> Result<(), String> {
    let consumer: BaseConsumer = settings
        .client_config()
        .set("group.id", "tessera-probe")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| e.to_string())?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(PROBE_TOPIC, partition, Offset::Offset(offset))
        .map_err(|e| e.to_string())?;
    consumer.assign(&tpl).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) if m.key() == Some(token.as_bytes()) => return Ok(()),
            Some(Ok(_)) | None => {}
            Some(Err(e)) => return Err(format!("fetch: {e}")),
        }
    }
    Err("the probe message was produced but could not be fetched back in time".into())
}
