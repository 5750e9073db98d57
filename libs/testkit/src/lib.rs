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
mod topics;
pub use broker::PrivateBroker;
pub use topics::{produce, produce_many, read_events, read_topic, Received};

use rand::Rng;
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

/// A valid NHS number (modulus 11 check digit) no other test is likely to use: tests that
/// link records across trusts by NHS number must not meet each other's patients.
pub fn unique_nhs_number() -> String {
    let mut rng = rand::thread_rng();
    loop {
        let digits: Vec<u32> = (0..9)
            .map(|_| rand::Rng::gen_range(&mut rng, 0..10))
            .collect();
        let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        return digits
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| d.to_string())
            .collect();
    }
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
        ..Default::default()
    };
    tessera_tenancy::publish_tenant(kafka, &record)
        .await
        .expect("tenant record published");
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
