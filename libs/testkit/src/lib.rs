//! Test support for every service's integration tests. Everything here talks to the real
//! PostgreSQL, Redis and Kafka-compatible broker that `cargo xtask test` starts; nothing is
//! mocked. Each test gets its own tenants (fresh ODS codes, so fresh schemas and topics).
//!
//! Endpoints can be moved with `TESSERA_TEST_PG` (server URL without a database),
//! `TESSERA_TEST_REDIS` and `TESSERA_TEST_KAFKA`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod bad_text;
mod broker;
pub mod contract;
pub use broker::PrivateBroker;

use rand::Rng;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tessera_access::dev::{DevIdp, TokenRequest};
use tessera_access::AuthConfig;
use tessera_proto::tenancy::v1::{TenantRecord, TenantStatus};
use tessera_tenancy::KafkaSettings;

pub use tessera_access::dev::TokenRequest as Token;

pub fn pg_server() -> String {
    std::env::var("TESSERA_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// URL of database `db`, created if missing.
pub async fn database(db: &str) -> String {
    use sea_orm::{ConnectionTrait, Database};
    let admin = Database::connect(format!("{}/postgres?sslmode=disable", pg_server()))
        .await
        .expect("postgres reachable");
    let exists = admin
        .query_one(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [db.into()],
        ))
        .await
        .unwrap()
        .is_some();
    if !exists {
        // Another test binary may win the race; that is fine.
        let _ = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{db}\""))
            .await;
    }
    let _ = admin.close().await;
    format!("{}/{db}?sslmode=disable", pg_server())
}

pub fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn kafka() -> KafkaSettings {
    KafkaSettings {
        brokers: std::env::var("TESSERA_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into()),
        partitions: 1,
        replication: 1,
        tenants_topic: TEST_TENANTS_TOPIC.into(),
        // The test broker is tansu 0.6.0, as locally (ADR 19).
        idempotence: false,
        ..KafkaSettings::default()
    }
}

/// A broker for a benchmark: the one `TESSERA_TEST_KAFKA` names, or else a private one of
/// its own (kept while the returned guard lives). Never the platform's broker on 9092: a
/// benchmark's throwaway trust would put its topics beside the platform's, whose consumers
/// would dead-letter them as a trust they do not know.
pub fn bench_kafka() -> (KafkaSettings, Option<PrivateBroker>) {
    if std::env::var("TESSERA_TEST_KAFKA").is_ok() {
        return (kafka(), None);
    }
    let b = PrivateBroker::start();
    (b.kafka(), Some(b))
}

/// Tests onboard their tenants here, never on the platform's own tenants topic.
pub const TEST_TENANTS_TOPIC: &str = "tessera.test.tenants";

/// A fresh, valid ODS code that no other test uses: `T` and six letters or digits.
pub fn unique_ods() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..6)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("T{tail}")
}

/// Logs to stderr when `TEST_LOG` is set; quiet otherwise.
pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("TEST_LOG").unwrap_or_default())
            .with_test_writer()
            .try_init();
    }
}

/// A dev identity provider whose JWKS is on disk for the service under test.
pub struct TestIdp {
    pub idp: DevIdp,
    pub jwks_path: PathBuf,
}

impl TestIdp {
    pub fn new() -> Self {
        let idp = DevIdp::generate("https://idp.test.tessera", "tessera");
        let dir = std::env::temp_dir().join(format!("tessera-test-idp-{}", uuid::Uuid::new_v4()));
        let jwks_path = idp.write_jwks(&dir.join("jwks.json")).unwrap();
        Self { idp, jwks_path }
    }

    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            issuer: self.idp.issuer().into(),
            audience: self.idp.audience().into(),
            jwks_path: Some(self.jwks_path.display().to_string()),
            jwks_url: None,
            leeway_seconds: 0,
        }
    }

    pub fn token(&self, ods: &str, activities: &[&str]) -> String {
        self.idp
            .token(&TokenRequest::new("U-TEST-1", ods, "R8000", activities))
            .unwrap()
    }

    pub fn token_for(&self, req: &TokenRequest) -> String {
        self.idp.token(req).unwrap()
    }
}

impl Default for TestIdp {
    fn default() -> Self {
        Self::new()
    }
}

/// Publishes an active tenant record for `ods`.
pub async fn onboard(kafka: &KafkaSettings, ods: &str) {
    let record = TenantRecord {
        ods_code: ods.into(),
        name: format!("Test trust {ods}"),
        status: TenantStatus::Active as i32,
        updated_at: chrono::Utc::now().to_rfc3339(),
    };
    tessera_tenancy::publish_tenant(kafka, &record)
        .await
        .expect("tenant record published");
}

/// Every event on `topic`, as consumers see them: a packed `EventBatch` message (ADR 19) is
/// opened into its events, each with the key and CloudEvents headers it would have carried
/// alone. Waits until at least `at_least` events have arrived or `timeout` passes.
pub async fn read_events(
    kafka: &KafkaSettings,
    topic: &str,
    at_least: usize,
    timeout: Duration,
) -> Vec<Received> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msgs = read_topic(kafka, topic, 1, left.min(Duration::from_secs(3))).await;
        let events = unpack_events(msgs);
        if events.len() >= at_least || Instant::now() >= deadline {
            return events;
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

/// Polls `check` until it returns true or `timeout` passes; returns whether it did.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        // A check that itself hangs (a query, a request) counts as "not yet", so the caller's
        // assertion reports what did not happen instead of the test timing out unexplained.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        if let Ok(true) = tokio::time::timeout(left, check()).await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
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

/// Waits until the service at `base` is ready and reports every one of `tenants` ready.
pub async fn wait_ready(client: &reqwest::Client, base: &str, tenants: &[String]) -> bool {
    wait_until(Duration::from_secs(30), || async {
        let Ok(r) = client.get(format!("{base}/readyz")).send().await else {
            return false;
        };
        let Ok(v) = r.json::<serde_json::Value>().await else {
            return false;
        };
        v["ready"] == serde_json::json!(true)
            && tenants.iter().all(|t| {
                v.pointer(&format!("/checks/tenants/detail/{t}/state"))
                    == Some(&serde_json::json!("ready"))
            })
    })
    .await
}

/// Publishes the MPI's `PatientMerged` (or, with `unmerge`, `PatientUnmerged`) of `merged`
/// into `survivor` in trust `ods`, as the MPI does (docs/contracts/merge.md: keyed by the
/// merged-away id), for a service's merge follower to act on.
pub async fn publish_merge(
    kafka: &KafkaSettings,
    ods: &str,
    merge_id: &str,
    survivor: &str,
    merged: &str,
    unmerge: bool,
) {
    use prost::Message as _;
    use tessera_proto::mpi::v1 as mpi;
    let topic = format!("tessera.{}.mpi.patient", ods.to_lowercase());
    let (ce_type, payload) = if unmerge {
        let m = mpi::PatientUnmerged {
            merge_id: merge_id.into(),
            tenant: ods.into(),
            survivor_patient_id: survivor.into(),
            merged_patient_id: merged.into(),
            ..Default::default()
        };
        ("uk.nhs.tessera.mpi.PatientUnmerged.v1", m.encode_to_vec())
    } else {
        let m = mpi::PatientMerged {
            merge_id: merge_id.into(),
            tenant: ods.into(),
            survivor_patient_id: survivor.into(),
            merged_patient_id: merged.into(),
            ..Default::default()
        };
        ("uk.nhs.tessera.mpi.PatientMerged.v1", m.encode_to_vec())
    };
    produce(kafka, &topic, merged, ce_type, payload).await;
}
