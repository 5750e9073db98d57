use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use tessera_bootstrap::Shutdown;
use tessera_scheduling::{Application, Config};
use tessera_testkit as kit;

/// B1120 Manage Inbound Appointments.
pub const BOOKING: &str = "B1120";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub idp: kit::TestIdp,
    pub db: DatabaseConnection,
    pub shutdown: Shutdown,
    pub tenants: Vec<String>,
    pub kafka: tessera_tenancy::KafkaSettings,
}

impl TestApp {
    pub async fn spawn(n: usize) -> Self {
        Self::spawn_with(n, |_| {}).await
    }

    pub async fn spawn_with(n: usize, tune: impl FnOnce(&mut Config)) -> Self {
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
        config.database_url = kit::database("tessera_scheduling_test").await;
        config.database_max_connections = 40;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("scheduling-test-{}", uuid::Uuid::new_v4());
        config.rate_limit.per_tenant_per_second = 100_000;
        tune(&mut config);
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
        let client = Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let ready = kit::wait_ready(&client, &management, &tenants).await;
        assert!(ready, "scheduling never became ready");
        Self {
            base,
            client,
            idp,
            db,
            shutdown,
            tenants,
            kafka,
        }
    }

    pub fn schema(&self, i: usize) -> String {
        format!("t_{}", self.tenants[i].to_lowercase())
    }

    /// Booking staff of trust `i`.
    pub fn clerk(&self, i: usize) -> String {
        self.idp.token_for(&kit::Token::new(
            "clerk",
            &self.tenants[i],
            "R8000",
            &[BOOKING],
        ))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
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

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// A new patient id, known in trust `i` as the MPI's `PatientRegistered` event would
    /// make it (ADR 21; the referrals service's tests prove the projection through the broker).
    pub async fn patient(&self, i: usize) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.sql(&format!(
            "INSERT INTO {}.known_patient (id) VALUES ('{id}')",
            self.schema(i)
        ))
        .await;
        id
    }

    pub async fn sql(&self, sql: &str) {
        self.db
            .execute(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await
            .unwrap();
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

    /// A clinic in trust `i`; returns its id.
    pub async fn clinic(&self, i: usize, code: &str) -> String {
        let (s, c) = self
            .post(
                "/clinics",
                &self.clerk(i),
                json!({
                    "code": code, "name": format!("{code} clinic"), "specialty": "100",
                    "treatment_function": "100", "site": "Main", "services": ["new", "follow-up"],
                    "team": "GSURG"
                }),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        c["id"].as_str().unwrap().to_string()
    }

    /// A weekly template on `weekday` from `starts` to `ends` (local), valid from `from`.
    pub async fn template(&self, i: usize, clinic: &str, body: Value) -> String {
        let (s, t) = self
            .post(
                &format!("/clinics/{clinic}/templates"),
                &self.clerk(i),
                body,
            )
            .await;
        assert_eq!(s, 201, "{t}");
        t["id"].as_str().unwrap().to_string()
    }

    pub async fn generate(&self, i: usize, template: &str, from: NaiveDate, weeks: u32) -> Value {
        let (s, g) = self
            .post(
                &format!("/templates/{template}/sessions"),
                &self.clerk(i),
                json!({ "from": from.to_string(), "weeks": weeks }),
            )
            .await;
        assert_eq!(s, 200, "{g}");
        g
    }

    /// Every slot of `clinic`, in time order: `(id, start)`.
    pub async fn slots(&self, i: usize, clinic: &str) -> Vec<(String, String)> {
        let rows = self
            .db
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT id::text AS id, starts_at::text AS s FROM {}.slot WHERE clinic_id = '{clinic}' ORDER BY starts_at",
                    self.schema(i)
                ),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "s").unwrap()))
            .collect()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// The race's ground in trust 0: two clinics (`codes`), each one session tomorrow of 25
/// five-minute slots at the same times, capacity 1, and 100 patients. Returns each clinic's
/// slots in time order, and the patients.
pub async fn race_ground(app: &TestApp, codes: [&str; 2]) -> (Vec<Vec<String>>, Vec<String>) {
    let day = tomorrow();
    let mut clinics = Vec::new();
    for code in codes {
        let clinic = app.clinic(0, code).await;
        let template = app
            .template(
                0,
                &clinic,
                serde_json::json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "09:00",
                        "ends": "11:05", "slot_minutes": 5, "slot_type": "new",
                        "valid_from": day.to_string() }),
            )
            .await;
        app.generate(0, &template, day, 1).await;
        let slots: Vec<String> = app
            .slots(0, &clinic)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(slots.len(), 25);
        clinics.push(slots);
    }
    let mut patients = Vec::new();
    for _ in 0..100 {
        patients.push(app.patient(0).await);
    }
    (clinics, patients)
}

/// The weekday `d` falls on, as the API names it.
pub fn weekday(d: NaiveDate) -> &'static str {
    use chrono::Datelike;
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.weekday().num_days_from_monday() as usize]
}

pub fn tomorrow() -> NaiveDate {
    Utc::now().date_naive() + Duration::days(1)
}
