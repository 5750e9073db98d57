use reqwest::{Client, RequestBuilder, Response};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_mpi::{Application, Config};
use tessera_tenancy::KafkaSettings;
use tessera_testkit as kit;

pub const VIEW: &str = "B0820";
pub const AMEND: &str = "B0825";

pub struct TestApp {
    pub base: String,
    /// The management port: `/metrics`, the detailed `/readyz`.
    pub management: String,
    pub client: Client,
    pub idp: kit::TestIdp,
    pub kafka: KafkaSettings,
    pub db: DatabaseConnection,
    pub shutdown: Shutdown,
    pub tenants: Vec<String>,
    pub config: Config,
    /// Each MLLP listener's trust and port.
    pub mllp: Vec<(String, u16)>,
}

pub async fn test_config(tenants: &[String], idp: &kit::TestIdp, kafka: &KafkaSettings) -> Config {
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_mpi_test").await;
    config.database_max_connections = 10;
    config.redis_url = kit::redis_url();
    config.kafka = kafka.clone();
    config.auth = idp.auth_config();
    config.tenancy.only = Some(tenants.to_vec());
    config.shutdown_grace_seconds = 5;
    // Each test app is its own deployment: its own consumer groups.
    config.consumer_group_prefix = format!("mpi-test-{}", uuid::Uuid::new_v4());
    config
}

impl TestApp {
    /// An app serving `n` fresh tenants, all onboarded and provisioned.
    pub async fn spawn(n: usize) -> Self {
        Self::spawn_with(n, |_| {}).await
    }

    pub async fn spawn_with(n: usize, tweak: impl FnOnce(&mut Config)) -> Self {
        kit::init_logs();
        let tenants: Vec<String> = (0..n).map(|_| kit::unique_ods()).collect();
        let kafka = kit::kafka();
        for t in &tenants {
            kit::onboard(&kafka, t).await;
        }
        let idp = kit::TestIdp::new();
        let mut config = test_config(&tenants, &idp, &kafka).await;
        tweak(&mut config);
        Self::start(config, tenants, idp, kafka).await
    }

    pub async fn start(
        config: Config,
        tenants: Vec<String>,
        idp: kit::TestIdp,
        kafka: KafkaSettings,
    ) -> Self {
        let app = Application::build(config.clone())
            .await
            .expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let management = format!("http://127.0.0.1:{}", app.management_port());
        let mllp = app.mllp_ports();
        let shutdown = Shutdown::new();
        let s = shutdown.clone();
        tokio::spawn(async move {
            let _ = app.run(s).await;
        });
        let db = Database::connect(config.database_url.clone())
            .await
            .unwrap();
        let me = Self {
            base,
            management,
            client: Client::new(),
            idp,
            kafka,
            db,
            shutdown,
            tenants,
            config,
            mllp,
        };
        me.wait_ready(&me.tenants.clone()).await;
        me
    }

    /// Waits until every named tenant is provisioned here.
    pub async fn wait_ready(&self, tenants: &[String]) {
        let ok = kit::wait_ready(&self.client, &self.management, tenants).await;
        assert!(ok, "tenants {tenants:?} never became ready");
    }

    pub fn tenant(&self, i: usize) -> &str {
        &self.tenants[i]
    }

    pub fn token(&self, ods: &str, activities: &[&str]) -> String {
        self.idp.token(ods, activities)
    }

    pub fn clerk(&self, i: usize) -> String {
        self.token(self.tenant(i), &[AMEND])
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{}", self.base, path))
            .bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .json(body)
    }

    pub fn put(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .put(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .json(body)
    }

    pub async fn register(&self, token: &str, body: &Value) -> Response {
        self.post("/patients", token, body).send().await.unwrap()
    }

    /// Registers and returns the new patient's JSON.
    pub async fn registered(&self, i: usize, body: &Value) -> Value {
        let r = self.register(&self.clerk(i), body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    pub fn schema(&self, i: usize) -> String {
        format!("t_{}", self.tenant(i).to_lowercase())
    }

    pub async fn patient_count(&self, i: usize) -> i64 {
        self.scalar(&format!(
            "SELECT count(*) AS n FROM {}.patient",
            self.schema(i)
        ))
        .await
    }

    pub async fn audit_count(&self, i: usize) -> i64 {
        self.scalar(&format!(
            "SELECT count(*) AS n FROM {}.audit_log",
            self.schema(i)
        ))
        .await
    }

    pub async fn audit_for_trace(
        &self,
        schema: &str,
        trace_id: &str,
    ) -> Vec<(String, String, String, i32)> {
        self.db
            .query_all(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT action, outcome, reason, status FROM {schema}.audit_log WHERE trace_id = $1"),
                [trace_id.into()],
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.try_get("", "action").unwrap(),
                    r.try_get("", "outcome").unwrap(),
                    r.try_get("", "reason").unwrap(),
                    r.try_get("", "status").unwrap(),
                )
            })
            .collect()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh traceparent and its trace id, to find a request's audit record.
pub fn traceparent() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    (format!("00-{trace_id}-00f067aa0ba902b7-01"), trace_id)
}

pub fn jane(nhs: Option<&str>) -> Value {
    let mut v = json!({
        "names": [{ "family": "Testpatient", "given": ["Jane", "Anne"], "prefix": "Mrs" }],
        "birth_date": "1970-01-01",
        "administrative_sex": "female",
        "addresses": [{ "lines": ["1 High Street"], "city": "Leeds", "postcode": "LS1 4AP", "period_start": "2020-01-01" }],
        "telecom": [{ "system": "phone", "value": "01132345678", "use": "home" }],
        "general_practice": "A99999"
    });
    if let Some(n) = nhs {
        v["nhs_number"] = json!(n);
        v["nhs_number_verification_status"] = json!("01");
    }
    v
}

pub fn jane_like(given: &str, family: &str, dob: &str) -> Value {
    json!({ "names": [{ "family": family, "given": [given] }], "birth_date": dob, "administrative_sex": "male" })
}

impl TestApp {
    /// The MLLP port of trust `i` (spawned with `with_mllp`).
    pub fn mllp_port(&self, i: usize) -> u16 {
        let t = self.tenant(i);
        self.mllp
            .iter()
            .find(|(n, _)| n == t)
            .map(|(_, p)| *p)
            .expect("an MLLP listener")
    }
}

/// A config tweak: an MLLP listener on a free port for every tenant.
pub fn with_mllp(c: &mut Config) {
    for t in c.tenancy.only.clone().unwrap_or_default() {
        c.hl7.listeners.push(tessera_mpi::config::MllpListener {
            tenant: t,
            host: "127.0.0.1".into(),
            port: 0,
        });
    }
}
