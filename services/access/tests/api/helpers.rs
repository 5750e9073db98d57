use reqwest::{Client, RequestBuilder};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;
use std::time::Duration;
use tessera_access_service::{Application, Config};
use tessera_bootstrap::Shutdown;
use tessera_tenancy::KafkaSettings;
use tessera_testkit as kit;

pub const VIEW: &str = "B0820";
pub const AMEND: &str = "B0825";
pub const OVERRIDE: &str = "B0083";
/// Privacy Officer job role.
pub const PRIVACY: &str = "R0001";

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
}

impl TestApp {
    pub async fn spawn(n: usize) -> Self {
        kit::init_logs();
        let tenants: Vec<String> = (0..n).map(|_| kit::unique_ods()).collect();
        let kafka = kit::kafka();
        for t in &tenants {
            kit::onboard(&kafka, t).await;
        }
        let idp = kit::TestIdp::new();
        let mut config = Config::default();
        config.http.port = 0;
        config.http.management_port = 0;
        config.database_url = kit::database("tessera_access_test").await;
        config.database_max_connections = 10;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("access-test-{}", uuid::Uuid::new_v4());
        config.heartbeat_seconds = 1;
        config.audit_head_seconds = 1;
        config.break_glass.min_seconds = 1;
        let app = Application::build(config.clone())
            .await
            .expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let management = format!("http://127.0.0.1:{}", app.management_port());
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
        };
        let ready = kit::wait_ready(&me.client, &me.management, &me.tenants).await;
        assert!(ready, "access never became ready");
        me
    }

    pub fn tenant(&self, i: usize) -> &str {
        &self.tenants[i]
    }

    pub fn schema(&self, i: usize) -> String {
        format!("t_{}", self.tenant(i).to_lowercase())
    }

    /// A token for `user` of trust `i` with job role `role`, `activities` and `teams`.
    pub fn token(
        &self,
        i: usize,
        user: &str,
        role: &str,
        activities: &[&str],
        teams: &[&str],
    ) -> String {
        self.idp
            .token_for(&kit::Token::new(user, self.tenant(i), role, activities).in_teams(teams))
    }

    pub fn clinician(&self, i: usize, user: &str) -> String {
        self.token(i, user, "R8000", &[VIEW], &[])
    }

    pub fn manager(&self, i: usize) -> String {
        self.token(i, "admin-1", "R8000", &[AMEND], &[])
    }

    pub fn privacy_officer(&self, i: usize) -> String {
        self.token(i, "po-1", PRIVACY, &[VIEW], &[])
    }

    pub fn req(&self, method: reqwest::Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Records `id` as a patient of trust `i` in this service's projection of the MPI, as
    /// the MPI's `PatientRegistered` event would (ADR 21). A fixture shortcut for tests about
    /// other things; `known_patients.rs` proves the projection through the broker.
    pub async fn know(&self, i: usize, id: &str) {
        self.db
            .execute(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "INSERT INTO {}.known_patient (id) VALUES ('{id}') ON CONFLICT DO NOTHING",
                    self.schema(i)
                ),
            ))
            .await
            .unwrap();
    }

    /// A new patient id, known in trust `i` (see [`TestApp::know`]).
    pub async fn known_patient(&self, i: usize) -> String {
        let id = patient();
        self.know(i, &id).await;
        id
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

    pub async fn exec(&self, sql: &str) {
        self.db
            .execute(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await
            .unwrap();
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn patient() -> String {
    uuid::Uuid::now_v7().to_string()
}
