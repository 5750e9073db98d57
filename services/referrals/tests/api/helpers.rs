use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Client, Method, RequestBuilder};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use tessera_bootstrap::Shutdown;
use tessera_referrals::{Application, Config};
use tessera_tenancy::KafkaSettings;
use tessera_testkit as kit;

/// B1110 Manage Inbound Referrals.
pub const INBOUND: &str = "B1110";

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
        config.database_url = kit::database("tessera_referrals_test").await;
        config.database_max_connections = 10;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("referrals-test-{}", uuid::Uuid::new_v4());
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
        assert!(ready, "referrals never became ready");
        me
    }

    pub fn tenant(&self, i: usize) -> &str {
        &self.tenants[i]
    }

    pub fn schema(&self, i: usize) -> String {
        format!("t_{}", self.tenant(i).to_lowercase())
    }

    pub fn topic(&self, i: usize, service: &str, stream: &str) -> String {
        format!(
            "tessera.{}.{service}.{stream}",
            self.tenant(i).to_lowercase()
        )
    }

    pub fn token(&self, i: usize, user: &str, activities: &[&str], teams: &[&str]) -> String {
        self.idp
            .token_for(&kit::Token::new(user, self.tenant(i), "R8000", activities).in_teams(teams))
    }

    /// Referral staff of `team` in trust `i`.
    pub fn team_member(&self, i: usize, user: &str, team: &str) -> String {
        self.token(i, user, &[INBOUND], &[team])
    }

    pub fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token)
    }

    pub async fn send(
        &self,
        method: Method,
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

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// Receives a referral; asserts 201; returns it.
    pub async fn refer(&self, i: usize, token: &str, body: Value) -> Value {
        if let Some(p) = body["patient_id"].as_str() {
            self.know(i, p).await;
        }
        let (s, v) = self.post("/referrals", token, body).await;
        assert_eq!(s, 201, "{v}");
        let _ = i;
        v
    }

    /// Moves a referral; returns status and body.
    pub async fn move_to(&self, token: &str, id: &str, body: Value) -> (u16, Value) {
        self.post(&format!("/referrals/{id}/transitions"), token, body)
            .await
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

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

pub fn patient() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn days_ago(n: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(n)
}

/// A 12-digit UBRN no other test uses.
pub fn ubrn() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000;
    format!("{n:012}")
}

/// A paper GP referral to `team`, received `received` days ago.
pub fn gp_referral(patient: &str, team: &str, specialty: &str, received: i64) -> Value {
    json!({
        "patient_id": patient,
        "source": "gp",
        "referrer": { "code": "G1234567", "organisation": "A81001" },
        "priority": "routine",
        "specialty": specialty,
        "treatment_function": specialty,
        "receiving_service": "General Surgery Outpatients",
        "receiving_team": team,
        "received_on": days_ago(received).to_string(),
        "attachments": [{ "url": "https://docs.example.nhs.uk/letters/1", "content_type": "application/pdf", "title": "Referral letter" }]
    })
}

/// An e-RS referral with `ubrn`, converted `converted` days ago.
pub fn ers_referral(patient: &str, team: &str, ubrn: &str, converted: i64) -> Value {
    let mut v = gp_referral(patient, team, "100", converted.saturating_sub(2).max(0));
    v["source"] = json!("e-rs");
    v["ubrn"] = json!(ubrn);
    v["ubrn_converted_on"] = json!(days_ago(converted).to_string());
    v["priority"] = json!("urgent");
    v
}
