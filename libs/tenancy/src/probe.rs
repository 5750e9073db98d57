//! A real round trip through the broker: produce one message to the probe topic and read
//! that very message back. A broker that accepts connections and answers metadata but whose
//! storage has failed (tansu 0.6.0 after a storage panic) fails this probe (ADR 19).
use crate::JobError;
use crate::KafkaSettings;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// Where probes go: a platform topic, one partition, read by nobody else.
pub const PROBE_TOPIC: &str = "tessera.platform.probe";

/// Produces a unique message and fetches it back within `timeout`; returns how long it took.
pub async fn probe(settings: &KafkaSettings, timeout: Duration) -> Result<Duration, JobError> {
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
    .map_err(|_| JobError::Timeout("the broker did not answer CreateTopics in time"))??;
    let ms = timeout.as_millis().to_string();
    let producer: FutureProducer = settings
        .producer_config()
        .set("message.timeout.ms", &ms)
        .create()?;
    let token = uuid::Uuid::new_v4().to_string();
    let delivered = producer
        .send(
            FutureRecord::to(PROBE_TOPIC).key(&token).payload(&token),
            timeout,
        )
        .await
        .map_err(|(e, _)| e)?;
    let (partition, offset) = (delivered.partition, delivered.offset);
    let left = timeout.saturating_sub(started.elapsed());
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || fetch_back(&settings, partition, offset, &token, left))
        .await??;
    Ok(started.elapsed())
}

fn fetch_back(
    settings: &KafkaSettings,
    partition: i32,
    offset: i64,
    token: &str,
    timeout: Duration,
) -> Result<(), JobError> {
    let consumer: BaseConsumer = settings
        .client_config()
        .set("group.id", "tessera-probe")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(PROBE_TOPIC, partition, Offset::Offset(offset))?;
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) if m.key() == Some(token.as_bytes()) => return Ok(()),
            Some(Ok(_)) | None => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }
    Err(JobError::Timeout(
        "the probe message was produced but could not be fetched back in time",
    ))
}
