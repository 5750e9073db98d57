use prost::Message as _;
use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_clinical_docs::{Application, Config};
use tessera_proto::access::v1 as access;
use tessera_testkit as kit;

/// The activity the service's default configuration asks for documents.
pub const DOCS: &str = "B0380";
/// B0083: break-glass into sealed (not locked) data.
pub const OVERRIDE: &str = "B0083";
/// The team every test patient is in the care of.
pub const TEAM: &str = "CARE-TEAM";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub idp: kit::TestIdp,
    pub db: DatabaseConnection,
    pub shutdown: Shutdown,
    pub tenants: Vec<String>,
    pub kafka: tessera_tenancy::KafkaSettings,
}

/// An answer: status, `ETag` (the version), body.
pub struct Answer {
    pub status: u16,
    pub version: Option<i64>,
    pub body: Value,
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
        config.database_url = kit::database("tessera_clinical_docs_test").await;
        config.database_max_connections = 40;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("docs-test-{}", uuid::Uuid::new_v4());
        config.rate_limit.per_tenant_per_second = 100_000;
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
            "clinical-docs never became ready"
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

    pub fn topic(&self, i: usize, service: &str, stream: &str) -> String {
        format!(
            "tessera.{}.{service}.{stream}",
            self.tenants[i].to_lowercase()
        )
    }

    /// A clinician of trust `i` in the patients' care team.
    pub fn clinician(&self, i: usize, user: &str) -> String {
        self.token(i, user, &[DOCS], &[TEAM])
    }

    pub fn token(&self, i: usize, user: &str, activities: &[&str], teams: &[&str]) -> String {
        let mut req = kit::Token::new(user, &self.tenants[i], "R8000", activities);
        req.workgroups = teams.iter().map(|t| t.to_string()).collect();
        self.idp.token_for(&req)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        if_match: Option<i64>,
        body: Option<Value>,
    ) -> Answer {
        let mut r = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(v) = if_match {
            r = r.header("If-Match", format!("W/\"{v}\""));
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let version = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok());
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            version,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, token, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, token, None, Some(body)).await
    }

    /// The raw bytes of a version.
    pub async fn bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// A new patient of trust `i` (known as the MPI's event would make it), in the care of
    /// [`TEAM`] (as the access service's relationship event says), once the projection has it.
    pub async fn patient(&self, i: usize) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.sql(&format!(
            "INSERT INTO {}.known_patient (id) VALUES ('{id}')",
            self.schema(i)
        ))
        .await;
        let granted = access::RelationshipGranted {
            id: uuid::Uuid::now_v7().to_string(),
            patient_id: id.clone(),
            user_id: String::new(),
            team: TEAM.into(),
            starts_at: (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
            ends_at: String::new(),
            origin: "admission".into(),
            reason_code: String::new(),
            source: String::new(),
        };
        self.access_event(
            i,
            "relationship",
            &id,
            "RelationshipGranted",
            granted.encode_to_vec(),
        )
        .await;
        let sql = format!(
            "SELECT count(*) AS n FROM {}.access_relationship WHERE patient_id = '{id}'",
            self.schema(i)
        );
        assert!(
            kit::wait_until(Duration::from_secs(30), || async {
                self.scalar(&sql).await > 0
            })
            .await,
            "the relationship never reached the projection"
        );
        id
    }

    pub async fn access_event(
        &self,
        i: usize,
        stream: &str,
        key: &str,
        kind: &str,
        payload: Vec<u8>,
    ) {
        kit::produce(
            &self.kafka,
            &self.topic(i, "access", stream),
            key,
            &format!("uk.nhs.tessera.access.{kind}.v1"),
            payload,
        )
        .await;
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

    /// A draft letter about `patient` by `token`'s user; returns its id.
    pub async fn draft(&self, patient: &str, token: &str, text: &str) -> String {
        let a = self.post("/documents", token, letter(patient, text)).await;
        assert_eq!(a.status, 201, "{}", a.body);
        assert_eq!(a.version, Some(1));
        a.body["id"].as_str().unwrap().to_string()
    }
}

/// A clinic letter (report of clinical encounter) about `patient`.
pub fn letter(patient: &str, text: &str) -> Value {
    json!({
        "patient_id": patient,
        "type": { "code": "371531000", "display": "Report of clinical encounter" },
        "title": "Clinic letter",
        "text": text,
    })
}
