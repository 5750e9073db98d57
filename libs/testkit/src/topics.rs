//! Reading a topic back as consumers see it (batches opened into their events), and
//! publishing events as a service's relay would.
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tessera_tenancy::KafkaSettings;

/// Every event on `topic`, as consumers see them: a packed `EventBatch` message (ADR 19) is
/// opened into its events, each with the key and CloudEvents headers it would have carried
/// alone. Waits until at least `at_least` events have arrived or `timeout` passes. Each try
/// reads the whole topic afresh; under load one may time out having read nothing, so the
/// fullest read is answered, not the last.
pub async fn read_events(
    kafka: &KafkaSettings,
    topic: &str,
    at_least: usize,
    timeout: Duration,
) -> Vec<Received> {
    let deadline = Instant::now() + timeout;
    let mut fullest: Vec<Received> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msgs = read_topic(kafka, topic, 1, left.min(Duration::from_secs(3))).await;
        let events = unpack_events(msgs);
        if events.len() > fullest.len() {
            fullest = events;
        }
        if fullest.len() >= at_least || Instant::now() >= deadline {
            return fullest;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unpack_events(msgs: Vec<Received>) -> Vec<Received> {
    let mut out = Vec::new();
    for m in msgs {
        if m.headers.get("ce_type").map(String::as_str)
            != Some(tessera_events::pack::EVENT_BATCH_TYPE)
        {
            out.push(m);
            continue;
        }
        for e in tessera_events::pack::unpack(&m.payload).unwrap() {
            let mut headers = HashMap::new();
            headers.insert("ce_id".to_string(), e.id);
            headers.insert("ce_type".to_string(), e.r#type);
            headers.insert("ce_source".to_string(), e.source);
            headers.insert("ce_time".to_string(), e.time);
            if !e.subject.is_empty() {
                headers.insert("ce_subject".to_string(), e.subject);
            }
            if !e.traceparent.is_empty() {
                headers.insert("traceparent".to_string(), e.traceparent);
            }
            out.push(Received {
                key: Some(e.key),
                headers,
                payload: e.payload,
                partition: m.partition,
                offset: m.offset,
            });
        }
    }
    out
}

/// One message read back from a topic.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: Option<String>,
    pub headers: HashMap<String, String>,
    pub payload: Vec<u8>,
    pub partition: i32,
    pub offset: i64,
}

/// Reads every message on `topic` (all partitions, from the start) until at least `at_least`
/// have arrived or `timeout` passes. A topic that does not exist reads as empty.
pub async fn read_topic(
    kafka: &KafkaSettings,
    topic: &str,
    at_least: usize,
    timeout: Duration,
) -> Vec<Received> {
    let kafka = kafka.clone();
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka
            .client_config()
            .set("group.id", format!("testkit-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut assigned = false;
        while Instant::now() < deadline {
            if !assigned {
                match consumer.fetch_metadata(Some(&topic), Duration::from_secs(2)) {
                    Ok(md) => {
                        let parts: Vec<i32> = md
                            .topics()
                            .iter()
                            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                            .collect();
                        if !parts.is_empty() {
                            let mut tpl = TopicPartitionList::new();
                            for p in parts {
                                tpl.add_partition_offset(&topic, p, Offset::Beginning)
                                    .unwrap();
                            }
                            consumer.assign(&tpl).unwrap();
                            assigned = true;
                        } else {
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                    }
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                }
            }
            if out.len() >= at_least {
                // Keep reading briefly so that extra (duplicate) messages are seen too.
                let settle = Instant::now() + Duration::from_millis(500);
                while Instant::now() < settle {
                    if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                        out.push(received(&m));
                    }
                }
                break;
            }
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                out.push(received(&m));
            }
        }
        out
    })
    .await
    .unwrap()
}

fn received(m: &rdkafka::message::BorrowedMessage<'_>) -> Received {
    let mut headers = HashMap::new();
    if let Some(h) = m.headers() {
        for x in h.iter() {
            if let Some(v) = x.value {
                headers.insert(x.key.to_string(), String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    Received {
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        headers,
        payload: m.payload().unwrap_or_default().to_vec(),
        partition: m.partition(),
        offset: m.offset(),
    }
}

/// Publishes one event as a service's relay would: CloudEvents headers, Protobuf payload.
/// For events whose producing service does not exist yet (e.g. a referral accepted, before
/// the referrals service), so that the consuming service is tested end to end through the
/// broker. Creates the topic if it is missing.
pub async fn produce(
    kafka: &KafkaSettings,
    topic: &str,
    key: &str,
    ce_type: &str,
    payload: Vec<u8>,
) -> String {
    produce_many(
        kafka,
        topic,
        vec![(key.to_string(), ce_type.to_string(), payload)],
    )
    .await
    .remove(0)
}

/// As [`produce`], for many events through one producer, in order: `(key, type, payload)`
/// each. Returns the events' ids.
pub async fn produce_many(
    kafka: &KafkaSettings,
    topic: &str,
    events: Vec<(String, String, Vec<u8>)>,
) -> Vec<String> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    kafka
        .ensure_topics(&[topic.to_string()], false)
        .await
        .unwrap();
    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    let (mut ids, mut pending) = (Vec::new(), Vec::new());
    for (key, ce_type, payload) in events {
        let id = uuid::Uuid::now_v7().to_string();
        let headers = tessera_events::CloudEventHeaders {
            id: id.clone(),
            r#type: ce_type,
            source: "/tessera/test".into(),
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            subject: Some(key.clone()),
            traceparent: None,
        };
        // Queued in order, delivered together: a per-message wait would take minutes.
        let delivery = producer
            .send_result(
                FutureRecord::to(topic)
                    .key(&key)
                    .payload(&payload)
                    .headers(headers.to_kafka()),
            )
            .map_err(|(e, _)| e)
            .unwrap();
        pending.push(delivery);
        ids.push(id);
    }
    for d in pending {
        d.await.unwrap().map_err(|(e, _)| e).unwrap();
    }
    ids
}
