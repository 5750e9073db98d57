//! A platform for end-to-end tests: the MPI, the access service, referrals, scheduling and PAS, in-process on free
//! ports, serving the same fresh trusts, trusting the same test identity provider, talking
//! through the real broker, PostgreSQL and Redis. Services never depend on each other; this
//! test crate is the only place both are built together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_tenancy::KafkaSettings;
use tessera_testkit as kit;

/// A service's configuration for these tests: free ports, its test database, the shared
/// broker, identity provider and trusts, a consumer group prefix of its own.
macro_rules! service_config {
    ($ty:ty, $db:literal, $prefix:literal, $kafka:expr, $idp:expr, $tenants:expr) => {{
        let mut c = <$ty>::default();
        c.http.port = 0;
        c.http.management_port = 0;
        c.database_url = kit::database($db).await;
        c.database_max_connections = 10;
        c.redis_url = kit::redis_url();
        c.kafka = $kafka.clone();
        c.auth = $idp.auth_config();
        c.tenancy.only = Some($tenants.clone());
        c.shutdown_grace_seconds = 5;
        c.consumer_group_prefix = format!("{}-{}", $prefix, uuid::Uuid::new_v4());
        c
    }};
}

/// Builds a service from its configuration, records its management port against its API
/// base, runs it until `shutdown`, and answers its API base.
macro_rules! spawn_app {
    ($app:ty, $config:expr, $shutdown:expr, $management:expr) => {{
        let app = <$app>::build($config.clone())
            .await
            .expect(concat!(stringify!($app), " builds"));
        let base = format!("http://127.0.0.1:{}", app.port());
        $management.insert(
            base.clone(),
            format!("http://127.0.0.1:{}", app.management_port()),
        );
        let s = $shutdown.clone();
        tokio::spawn(async move {
            let _ = app.run(s).await;
        });
        base
    }};
}

pub struct Platform {
    pub mpi: String,
    pub access: String,
    /// Empty unless started with referrals.
    pub referrals: String,
    /// Empty unless started with referrals (scheduling and PAS come with them).
    pub scheduling: String,
    pub pas: String,
    /// Empty unless started with documents ([`Platform::start_with_docs`]).
    pub docs: String,
    /// Empty unless started with the regional record ([`Platform::start_with_region`]).
    pub region: String,
    /// Each trust's MLLP port on the MPI: (ODS code, port).
    pub mllp: Vec<(String, u16)>,
    /// Each service's management port (`/metrics`, the detailed `/readyz`), by API base.
    pub management: std::collections::HashMap<String, String>,
    pub client: Client,
    pub idp: kit::TestIdp,
    pub kafka: KafkaSettings,
    pub mpi_db: DatabaseConnection,
    pub access_db: DatabaseConnection,
    pub referrals_db: DatabaseConnection,
    pub scheduling_db: DatabaseConnection,
    pub pas_db: DatabaseConnection,
    pub docs_db: DatabaseConnection,
    pub region_db: DatabaseConnection,
    pub tenants: Vec<String>,
    /// How many of `tenants` were onboarded at the start (the rest are pending).
    pub onboarded: usize,
    shutdown: Shutdown,
    mpi_config: tessera_mpi::Config,
    mpi_stop: Shutdown,
    mpi_task: Option<tokio::task::JoinHandle<Result<(), tessera_bootstrap::Stopped>>>,
    access_config: tessera_access_service::Config,
    access_stop: Shutdown,
    access_task: Option<tokio::task::JoinHandle<Result<(), tessera_bootstrap::Stopped>>>,
}

/// An answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Platform {
    /// The MPI and the access service for `n` fresh trusts.
    pub async fn start(n: usize) -> Self {
        Self::start_with(n, false).await
    }

    /// The MPI, the access service, referrals and scheduling for `n` fresh trusts.
    pub async fn start_with_referrals(n: usize) -> Self {
        Self::start_with(n, true).await
    }

    async fn start_with(n: usize, with_referrals: bool) -> Self {
        Self::start_on(kit::kafka(), n, with_referrals).await
    }

    /// The MPI, access, referrals, scheduling, PAS and clinical documentation for `n` fresh
    /// trusts (the others leave clinical documentation out: one service fewer to start beside
    /// every other test).
    pub async fn start_with_docs(n: usize) -> Self {
        Self::start_services(kit::kafka(), n, 0, true, true, false).await
    }

    /// Every service, the regional record included, for `n` fresh trusts.
    pub async fn start_with_region(n: usize) -> Self {
        Self::start_services(kit::kafka(), n, 0, true, true, true).await
    }

    /// Every service (the regional record included when `everything`, else the MPI and the
    /// access service only), serving `n` trusts onboarded now and `pending` more that nobody
    /// has onboarded yet (the last `pending` of `tenants`): the tenant operator's tests
    /// onboard those through a `Trust`.
    pub async fn start_with_pending(n: usize, pending: usize, everything: bool) -> Self {
        Self::start_services(kit::kafka(), n, pending, everything, everything, everything).await
    }

    /// As [`Platform::start_with_referrals`] (or without), on the broker `kafka` names (a
    /// test's private broker).
    pub async fn start_on(kafka: KafkaSettings, n: usize, with_referrals: bool) -> Self {
        Self::start_services(kafka, n, 0, with_referrals, false, false).await
    }

    async fn start_services(
        kafka: KafkaSettings,
        n: usize,
        pending: usize,
        with_referrals: bool,
        with_docs: bool,
        with_region: bool,
    ) -> Self {
        kit::init_logs();
        let tenants: Vec<String> = (0..n + pending).map(|_| kit::unique_ods()).collect();
        for t in &tenants[..n] {
            kit::onboard(&kafka, t).await;
        }
        let idp = kit::TestIdp::new();
        let shutdown = Shutdown::new();

        let mut m = service_config!(
            tessera_mpi::Config,
            "tessera_mpi_test",
            "mpi-e2e",
            kafka,
            idp,
            tenants
        );
        m.rate_limit.per_tenant_per_second = 100_000;
        // An MLLP listener per trust, on a free port (the trust's ADT feed, ADR 11 and 33).
        for t in &tenants {
            m.hl7.listeners.push(tessera_mpi::config::MllpListener {
                tenant: t.clone(),
                host: "127.0.0.1".into(),
                port: 0,
            });
        }
        let mpi_app = tessera_mpi::Application::build(m.clone())
            .await
            .expect("mpi builds");
        let mpi = format!("http://127.0.0.1:{}", mpi_app.port());
        let mllp = mpi_app.mllp_ports();
        let mut management = std::collections::HashMap::new();
        management.insert(
            mpi.clone(),
            format!("http://127.0.0.1:{}", mpi_app.management_port()),
        );

        let mut a = service_config!(
            tessera_access_service::Config,
            "tessera_access_test",
            "access-e2e",
            kafka,
            idp,
            tenants
        );
        a.heartbeat_seconds = 1;
        a.audit_head_seconds = 1;
        a.break_glass.min_seconds = 1;
        let access_app = tessera_access_service::Application::build(a.clone())
            .await
            .expect("access builds");
        let access = format!("http://127.0.0.1:{}", access_app.port());
        management.insert(
            access.clone(),
            format!("http://127.0.0.1:{}", access_app.management_port()),
        );

        let mut r = service_config!(
            tessera_referrals::Config,
            "tessera_referrals_test",
            "referrals-e2e",
            kafka,
            idp,
            tenants
        );
        r.rate_limit.per_tenant_per_second = 100_000;
        let referrals = if with_referrals {
            spawn_app!(tessera_referrals::Application, r, shutdown, management)
        } else {
            String::new()
        };
        let mut sc = service_config!(
            tessera_scheduling::Config,
            "tessera_scheduling_test",
            "scheduling-e2e",
            kafka,
            idp,
            tenants
        );
        sc.rate_limit.per_tenant_per_second = 100_000;
        let scheduling = if with_referrals {
            spawn_app!(tessera_scheduling::Application, sc, shutdown, management)
        } else {
            String::new()
        };
        let mut pc = service_config!(
            tessera_pas::Config,
            "tessera_pas_test",
            "pas-e2e",
            kafka,
            idp,
            tenants
        );
        pc.rate_limit.per_tenant_per_second = 100_000;
        let pas = if with_referrals {
            spawn_app!(tessera_pas::Application, pc, shutdown, management)
        } else {
            String::new()
        };
        let mut dc = service_config!(
            tessera_clinical_docs::Config,
            "tessera_clinical_docs_test",
            "docs-e2e",
            kafka,
            idp,
            tenants
        );
        dc.rate_limit.per_tenant_per_second = 100_000;
        let docs = if with_docs {
            spawn_app!(tessera_clinical_docs::Application, dc, shutdown, management)
        } else {
            String::new()
        };
        let mut rc = service_config!(
            tessera_region::Config,
            "tessera_region_test",
            "region-e2e",
            kafka,
            idp,
            tenants
        );
        rc.rate_limit.per_tenant_per_second = 100_000;
        let region = if with_region {
            spawn_app!(tessera_region::Application, rc, shutdown, management)
        } else {
            String::new()
        };
        let (mpi_stop, access_stop) = (shutdown.child(), shutdown.child());
        let (s1, s2) = (mpi_stop.clone(), access_stop.clone());
        let mpi_task = tokio::spawn(async move { mpi_app.run(s1).await });
        let access_task = tokio::spawn(async move { access_app.run(s2).await });
        let me = Self {
            mpi,
            access,
            referrals,
            scheduling,
            pas,
            docs,
            region,
            mllp,
            management,
            // A request that hangs fails at its own line, not as a whole-test timeout.
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            idp,
            kafka,
            mpi_db: Database::connect(m.database_url.clone()).await.unwrap(),
            access_db: Database::connect(a.database_url.clone()).await.unwrap(),
            referrals_db: Database::connect(r.database_url.clone()).await.unwrap(),
            scheduling_db: Database::connect(sc.database_url.clone()).await.unwrap(),
            pas_db: Database::connect(pc.database_url.clone()).await.unwrap(),
            docs_db: Database::connect(dc.database_url.clone()).await.unwrap(),
            region_db: Database::connect(rc.database_url.clone()).await.unwrap(),
            tenants,
            onboarded: n,
            shutdown,
            mpi_config: m,
            mpi_stop,
            mpi_task: Some(mpi_task),
            access_config: a,
            access_stop,
            access_task: Some(access_task),
        };
        for base in [
            me.mpi.clone(),
            me.access.clone(),
            me.referrals.clone(),
            me.scheduling.clone(),
            me.pas.clone(),
            me.docs.clone(),
            me.region.clone(),
        ] {
            if base.is_empty() {
                continue;
            }
            assert!(me.wait_ready(&base).await, "{base} never became ready");
        }
        me
    }

    /// Stops the MPI as Kubernetes would (SIGTERM's shutdown), and returns how long it took
    /// to stop; panics if it does not stop within `limit`.
    pub async fn stop_mpi(&mut self, limit: Duration) -> Duration {
        let t0 = std::time::Instant::now();
        self.mpi_stop.trigger();
        if let Some(task) = self.mpi_task.take() {
            tokio::time::timeout(limit, task)
                .await
                .expect("the MPI stops within its limit")
                .expect("the MPI task joins")
                .expect("the MPI stops cleanly");
        }
        t0.elapsed()
    }

    /// Starts the MPI again, as a new pod would: same configuration and database, a new port.
    /// Returns once it is listening; readiness is the caller's to check.
    pub async fn start_mpi(&mut self) {
        let app = tessera_mpi::Application::build(self.mpi_config.clone())
            .await
            .expect("mpi builds again");
        self.mpi = format!("http://127.0.0.1:{}", app.port());
        self.management.insert(
            self.mpi.clone(),
            format!("http://127.0.0.1:{}", app.management_port()),
        );
        self.mpi_stop = self.shutdown.child();
        let stop = self.mpi_stop.clone();
        self.mpi_task = Some(tokio::spawn(async move { app.run(stop).await }));
    }

    /// Services started from now on use the broker `kafka` names.
    pub fn use_broker(&mut self, kafka: KafkaSettings) {
        self.mpi_config.kafka = kafka.clone();
        self.access_config.kafka = kafka.clone();
        self.kafka = kafka;
    }

    /// Stops the access service (as SIGTERM would); panics unless it stops within `limit`.
    pub async fn stop_access(&mut self, limit: Duration) -> Duration {
        let t0 = std::time::Instant::now();
        self.access_stop.trigger();
        if let Some(task) = self.access_task.take() {
            tokio::time::timeout(limit, task)
                .await
                .expect("the access service stops within its limit")
                .expect("the access task joins")
                .expect("the access service stops cleanly");
        }
        t0.elapsed()
    }

    /// Starts the access service again: same configuration and database, a new port.
    pub async fn start_access(&mut self) {
        let app = tessera_access_service::Application::build(self.access_config.clone())
            .await
            .expect("access builds again");
        self.access = format!("http://127.0.0.1:{}", app.port());
        self.management.insert(
            self.access.clone(),
            format!("http://127.0.0.1:{}", app.management_port()),
        );
        self.access_stop = self.shutdown.child();
        let stop = self.access_stop.clone();
        self.access_task = Some(tokio::spawn(async move { app.run(stop).await }));
    }

    /// Whether the service whose API is at `base` becomes ready for every trust (30 s).
    pub async fn wait_ready(&self, base: &str) -> bool {
        let management = self.management.get(base).cloned().unwrap_or_default();
        kit::wait_ready(&self.client, &management, &self.tenants[..self.onboarded]).await
    }

    /// The detailed readiness report of the service whose API is at `base`.
    pub async fn readiness(&self, base: &str) -> Value {
        let management = self.management.get(base).cloned().unwrap_or_default();
        match self.client.get(format!("{management}/readyz")).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
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

    pub async fn call(
        &self,
        method: Method,
        url: String,
        token: &str,
        body: Option<Value>,
        traceparent: Option<&str>,
    ) -> Answer {
        let mut r = self.client.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some(t) = traceparent {
            r = r.header("traceparent", t);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    pub async fn mpi(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(method, format!("{}{path}", self.mpi), token, body, None)
            .await
    }

    pub async fn access(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(method, format!("{}{path}", self.access), token, body, None)
            .await
    }

    pub async fn referrals(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(
            method,
            format!("{}{path}", self.referrals),
            token,
            body,
            None,
        )
        .await
    }

    pub async fn pas(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(method, format!("{}{path}", self.pas), token, body, None)
            .await
    }

    pub async fn docs(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(method, format!("{}{path}", self.docs), token, body, None)
            .await
    }

    pub async fn region(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(method, format!("{}{path}", self.region), token, body, None)
            .await
    }

    pub async fn scheduling(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call(
            method,
            format!("{}{path}", self.scheduling),
            token,
            body,
            None,
        )
        .await
    }

    /// Refers `patient` to general surgery (team GSURG) of the trust `surgeon`'s token is
    /// for, received twenty days ago, urgent, and accepts it; returns the referral's id.
    pub async fn refer_and_accept(&self, surgeon: &str, patient: &str) -> String {
        let received = chrono::Utc::now().date_naive() - chrono::Duration::days(20);
        let r = self
            .referrals(
                Method::POST,
                "/referrals",
                surgeon,
                Some(json!({
                    "patient_id": patient, "source": "gp",
                    "referrer": { "code": "G1234567", "organisation": "A81001" },
                    "priority": "urgent", "specialty": "100", "treatment_function": "100",
                    "receiving_service": "General Surgery Outpatients", "receiving_team": "GSURG",
                    "received_on": received.to_string(),
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        let a = self
            .referrals(
                Method::POST,
                &format!("/referrals/{id}/transitions"),
                surgeon,
                Some(json!({ "to": "ACCEPTED" })),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        id
    }

    /// Registers a patient in trust `i` with an address, telecom and GP; returns its id.
    pub async fn register(&self, i: usize, family: &str) -> String {
        let clerk = self.token(i, "clerk-1", "R8000", &["B0825"], &[]);
        let a = self
            .mpi(Method::POST, "/patients", &clerk, Some(json!({
                "names": [{ "family": family, "given": ["Alex"] }],
                "birth_date": "1980-05-05",
                "administrative_sex": "female",
                "addresses": [{ "lines": ["2 Low Road"], "city": "Leeds", "postcode": "LS2 9JT", "period_start": "2020-01-01" }],
                "telecom": [{ "system": "phone", "value": "01130000000", "use": "home" }],
                "general_practice": "A99999"
            })))
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["id"].as_str().unwrap().to_string()
    }

    /// As [`Platform::register`], then waits (as a client retrying on 503
    /// `patient.not-yet-known` would) until the access service, and referrals, scheduling and
    /// PAS if running, know the patient from the MPI's events (ADR 21).
    pub async fn register_known(&self, i: usize, family: &str) -> String {
        let id = self.register(i, family).await;
        let q = format!(
            "SELECT count(*) AS n FROM {}.known_patient WHERE id = '{id}'",
            self.schema(i)
        );
        let known = kit::wait_until(Duration::from_secs(20), || async {
            Self::scalar(&self.access_db, &q).await == 1
                && (self.referrals.is_empty() || Self::scalar(&self.referrals_db, &q).await == 1)
                && (self.scheduling.is_empty() || Self::scalar(&self.scheduling_db, &q).await == 1)
                && (self.pas.is_empty() || Self::scalar(&self.pas_db, &q).await == 1)
                && (self.docs.is_empty() || Self::scalar(&self.docs_db, &q).await == 1)
        })
        .await;
        assert!(
            known,
            "patient {id} never reached the services' projections"
        );
        id
    }

    pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
        let row = db
            .query_one(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// The MPI's audit record of the request with trace id `trace`, in trust `i`'s schema.
    pub async fn mpi_audit(&self, i: usize, trace: &str) -> Vec<(String, String, i32)> {
        self.mpi_db
            .query_all(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT outcome, reason, status FROM {}.audit_log WHERE trace_id = $1",
                    self.schema(i)
                ),
                [trace.into()],
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
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

/// A fresh W3C traceparent and its trace id.
pub fn traceparent() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    (format!("00-{trace_id}-00f067aa0ba902b7-01"), trace_id)
}

/// Whether an MPI patient answer shows the contact group.
pub fn shows_contact(p: &Value) -> bool {
    p["addresses"].as_array().is_some_and(|a| !a.is_empty())
}
