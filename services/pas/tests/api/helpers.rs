use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use tessera_bootstrap::Shutdown;
use tessera_pas::{Application, Config};
use tessera_testkit as kit;

/// B0264 Manage Inpatient Records (ward staff, admissions office).
pub const WARD: &str = "B0264";
/// B0370 Clinical Coding.
pub const CODING: &str = "B0370";

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
        config.database_url = kit::database("tessera_pas_test").await;
        config.database_max_connections = 40;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("pas-test-{}", uuid::Uuid::new_v4());
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
        assert!(
            kit::wait_ready(&client, &management, &tenants).await,
            "pas never became ready"
        );
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

    /// Ward staff of trust `i`.
    pub fn staff(&self, i: usize) -> String {
        self.idp.token_for(&kit::Token::new(
            "nurse",
            &self.tenants[i],
            "R8000",
            &[WARD],
        ))
    }

    /// A clinical coder of trust `i`.
    pub fn coder(&self, i: usize) -> String {
        self.idp.token_for(&kit::Token::new(
            "coder",
            &self.tenants[i],
            "R8000",
            &[CODING],
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
    /// make it (ADR 21).
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

    /// A ward `code` in trust `i` with `beds` beds (`B1`, `B2`, ...); returns its id and
    /// the beds' ids in code order.
    pub async fn ward(&self, i: usize, code: &str, beds: usize) -> (String, Vec<String>) {
        let beds: Vec<Value> = (1..=beds)
            .map(|n| json!({ "code": format!("B{n:03}") }))
            .collect();
        let (s, w) = self
            .post(
                "/wards",
                &self.staff(i),
                json!({ "code": code, "name": format!("{code} ward"), "site": "Main", "team": format!("{code}-TEAM"), "beds": beds }),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        let id = w["id"].as_str().unwrap().to_string();
        let (s, b) = self
            .get(&format!("/wards/{id}/board"), &self.staff(i))
            .await;
        assert_eq!(s, 200, "{b}");
        let beds = b["beds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_string())
            .collect();
        (id, beds)
    }

    /// Admits `patient` into `bed` (emergency, from home, under `C100`); returns the spell.
    pub async fn admit(&self, i: usize, patient: &str, bed: &str) -> Value {
        let (s, v) = self
            .post("/admissions", &self.staff(i), admission(patient, bed))
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// An emergency admission of `patient` into `bed`, from home, under consultant `C100`.
pub fn admission(patient: &str, bed: &str) -> Value {
    json!({
        "patient_id": patient, "bed_id": bed, "admission_method": "21", "admission_source": "19",
        "consultant": "C100", "treatment_function": "300"
    })
}

pub fn discharge_body() -> Value {
    json!({ "discharge_method": "1", "discharge_destination": "19" })
}

/// The race's ground in trust 0: ward `code` with 20 beds, and a ward without beds holding
/// 40 admitted patients; 60 more patients not yet in. Returns the beds, the held patients'
/// spells, and the new patients.
pub async fn race_ground(app: &TestApp, code: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (_, beds) = app.ward(0, code, 20).await;
    let (hold, _) = app.ward(0, &format!("{code}-HOLD"), 0).await;
    let mut held = Vec::new();
    for _ in 0..40 {
        let p = app.patient(0).await;
        let mut body = admission(&p, "");
        body.as_object_mut().unwrap().remove("bed_id");
        body["ward_id"] = json!(hold);
        let (s, v) = app.post("/admissions", &app.staff(0), body).await;
        assert_eq!(s, 201, "{v}");
        held.push(v["id"].as_str().unwrap().to_string());
    }
    let mut new = Vec::new();
    for _ in 0..60 {
        new.push(app.patient(0).await);
    }
    (beds, held, new)
}

/// After a race in trust 0: the beds with more than one stay at any moment (0 when no bed
/// was ever given to two patients at once), and the spells whose episodes overlap.
pub async fn race_invariants(app: &TestApp) -> (i64, i64) {
    let schema = app.schema(0);
    let beds = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.bed_stay a JOIN {schema}.bed_stay b
                ON a.bed_id = b.bed_id AND a.id < b.id
               AND a.cancelled_at IS NULL AND b.cancelled_at IS NULL
               AND a.from_at < coalesce(b.to_at, 'infinity') AND b.from_at < coalesce(a.to_at, 'infinity')"
        ))
        .await;
    let episodes = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.episode a JOIN {schema}.episode b
                ON a.spell_id = b.spell_id AND a.id < b.id
               AND a.cancelled_at IS NULL AND b.cancelled_at IS NULL
               AND a.started_at < coalesce(b.ended_at, 'infinity') AND b.started_at < coalesce(a.ended_at, 'infinity')"
        ))
        .await;
    (beds, episodes)
}

/// The service as its own process of this build (what a test kills with SIGKILL), serving
/// `app`'s trusts from a configuration file, as Kubernetes would run it.
pub struct Process {
    child: std::process::Child,
    file: std::path::PathBuf,
    pub base: String,
    pub management: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn spawn(file: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_tessera-pas"))
        .env("TESSERA_CONFIG", file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

impl Process {
    pub async fn start(app: &TestApp, tune: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::default();
        config.http.port = free_port();
        config.http.management_port = free_port();
        config.database_url = kit::database("tessera_pas_test").await;
        config.redis_url = kit::redis_url();
        config.kafka = app.kafka.clone();
        config.auth = app.idp.auth_config();
        config.tenancy.only = Some(app.tenants.clone());
        config.consumer_group_prefix = format!("pas-process-{}", uuid::Uuid::new_v4());
        config.rate_limit.per_tenant_per_second = 100_000;
        config.telemetry.log_level = "error".into();
        tune(&mut config);
        let dir = std::env::temp_dir().join(format!("tessera-pas-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pas.toml");
        std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
        let p = Self {
            child: spawn(&file),
            file,
            base: format!("http://127.0.0.1:{}", config.http.port),
            management: format!("http://127.0.0.1:{}", config.http.management_port),
        };
        assert!(
            kit::wait_ready(&app.client, &p.management, &app.tenants).await,
            "the process never became ready"
        );
        p
    }

    /// SIGKILL, then started again at once (as a crashed pod is).
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(&self.file);
    }

    pub fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}
