use prost::Message as _;
use reqwest::Client;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_proto::access::v1 as access;
use tessera_proto::mpi::v1 as mpi;
use tessera_region::{Application, Config};
use tessera_testkit as kit;

/// The activity the summary needs by default (B0820).
pub const VIEW: &str = "B0820";
/// B0825: decide the matcher's proposals.
pub const LINK: &str = "B0825";
/// The team the viewer's patients are in the care of.
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

pub struct Answer {
    pub status: u16,
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
        config.database_url = kit::database("tessera_region_test").await;
        // Beside the other tests' pools, within PostgreSQL's 100 connections.
        config.database_max_connections = 8;
        config.redis_url = kit::redis_url();
        config.kafka = kafka.clone();
        config.auth = idp.auth_config();
        config.tenancy.only = Some(tenants.clone());
        config.shutdown_grace_seconds = 5;
        config.consumer_group_prefix = format!("region-test-{}", uuid::Uuid::new_v4());
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
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        assert!(
            kit::wait_ready(&client, &management, &tenants).await,
            "region never became ready"
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

    /// A clinician of trust `i` in [`TEAM`].
    pub fn clinician(&self, i: usize, user: &str) -> String {
        self.token(i, user, &[VIEW], &[TEAM])
    }

    pub fn token(&self, i: usize, user: &str, activities: &[&str], teams: &[&str]) -> String {
        let mut req = kit::Token::new(user, &self.tenants[i], "R8000", activities);
        req.workgroups = teams.iter().map(|t| t.to_string()).collect();
        self.idp.token_for(&req)
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    pub async fn post(&self, path: &str, token: &str) -> Answer {
        let r = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// Publishes one event on trust `i`'s `service.stream`, as that service would.
    pub async fn event(
        &self,
        i: usize,
        service: &str,
        stream: &str,
        key: &str,
        ce_type: &str,
        payload: Vec<u8>,
    ) {
        kit::produce(
            &self.kafka,
            &self.topic(i, service, stream),
            key,
            ce_type,
            payload,
        )
        .await;
    }

    /// Registers a patient in trust `i`'s MPI (its event), known to the trust's services.
    pub async fn register(
        &self,
        i: usize,
        family: &str,
        given: &str,
        birth: &str,
        nhs: Option<&str>,
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let m = mpi::PatientRegistered {
            patient_id: id.clone(),
            tenant: self.tenants[i].clone(),
            version: 1,
            demographics: Some(mpi::Demographics {
                nhs_number: nhs.unwrap_or_default().into(),
                nhs_number_verification_status: if nhs.is_some() {
                    "01".into()
                } else {
                    String::new()
                },
                names: vec![mpi::HumanName {
                    family: family.into(),
                    given: vec![given.into()],
                    r#use: "official".into(),
                    ..Default::default()
                }],
                birth_date: birth.into(),
                administrative_sex: "female".into(),
                addresses: vec![mpi::Address {
                    lines: vec!["1 High Street".into()],
                    city: "Blackburn".into(),
                    postal_code: "BB2 3HH".into(),
                    ..Default::default()
                }],
                general_practice: "P81001".into(),
                ..Default::default()
            }),
            registered_at: chrono::Utc::now().to_rfc3339(),
        };
        self.event(
            i,
            "mpi",
            "patient",
            &id,
            "uk.nhs.tessera.mpi.PatientRegistered.v1",
            m.encode_to_vec(),
        )
        .await;
        let (schema, known) = (self.schema(i), id.clone());
        assert!(
            kit::wait_until(Duration::from_secs(30), || async {
                self.scalar(&format!(
                    "SELECT (SELECT count(*) FROM {schema}.known_patient WHERE id = '{known}')
                          + (SELECT count(*) FROM {schema}.reg_patient WHERE patient_id = '{known}') AS n"
                ))
                .await
                    == 2
            })
            .await,
            "the patient never reached the projections"
        );
        id
    }

    /// [`TEAM`] of trust `i` gains a relationship with `patient`.
    pub async fn relate(&self, i: usize, patient: &str) {
        let granted = access::RelationshipGranted {
            id: uuid::Uuid::now_v7().to_string(),
            patient_id: patient.into(),
            team: TEAM.into(),
            starts_at: (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
            origin: "referral".into(),
            ..Default::default()
        };
        self.access(
            i,
            "relationship",
            patient,
            "RelationshipGranted",
            granted.encode_to_vec(),
        )
        .await;
        self.wait_rows(&format!(
            "SELECT count(*) AS n FROM {}.access_relationship WHERE patient_id = '{patient}'",
            self.schema(i)
        ))
        .await;
    }

    /// The patient's sharing directive in trust `i`: permit (for `trusts`, or every trust) or
    /// forbid; waits until the projection has it.
    pub async fn consent(&self, i: usize, patient: &str, permit: bool, trusts: &[&str]) {
        let m = access::SharingConsentSet {
            patient_id: patient.into(),
            sharing: if permit {
                access::Sharing::Permit
            } else {
                access::Sharing::Forbid
            } as i32,
            recorded_at: chrono::Utc::now().to_rfc3339(),
            trusts: trusts.iter().map(|t| t.to_string()).collect(),
        };
        self.access(
            i,
            "consent",
            patient,
            "SharingConsentSet",
            m.encode_to_vec(),
        )
        .await;
        let want = if permit { "permit" } else { "forbid" };
        let named: Vec<String> = trusts.iter().map(|t| format!("'{t}'")).collect();
        self.wait_rows(&format!(
            "SELECT count(*) AS n FROM {}.access_consent WHERE patient_id = '{patient}' AND sharing = '{want}'
                AND coalesce(trusts, '{{}}'::text[]) = ARRAY[{}]::text[]",
            self.schema(i),
            named.join(", ")
        ))
        .await;
    }

    /// Seals `item` of `patient` in trust `i` for nobody but `users`.
    pub async fn seal(&self, i: usize, patient: &str, item: &str, users: &[&str]) {
        let m = access::SealSet {
            patient_id: patient.into(),
            item: item.into(),
            level: access::SealLevel::Sealed as i32,
            users: users.iter().map(|u| u.to_string()).collect(),
            ..Default::default()
        };
        self.access(i, "consent", patient, "SealSet", m.encode_to_vec())
            .await;
        self.wait_rows(&format!(
            "SELECT count(*) AS n FROM {}.access_seal WHERE patient_id = '{patient}' AND item = '{item}'",
            self.schema(i)
        ))
        .await;
    }

    pub async fn access(&self, i: usize, stream: &str, key: &str, kind: &str, payload: Vec<u8>) {
        self.event(
            i,
            "access",
            stream,
            key,
            &format!("uk.nhs.tessera.access.{kind}.v1"),
            payload,
        )
        .await;
    }

    pub async fn wait_rows(&self, sql: &str) {
        assert!(
            kit::wait_until(Duration::from_secs(30), || async {
                self.scalar(sql).await > 0
            })
            .await,
            "never true: {sql}"
        );
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

    /// The audit records of `action` about `patient` in trust `i`: (outcome, reason,
    /// organisation, result count).
    pub async fn audits(
        &self,
        i: usize,
        action: &str,
        patient: &str,
    ) -> Vec<(String, String, String, i32)> {
        let rows = self
            .db
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT outcome, reason, organisation, result_count FROM {}.audit_log
                      WHERE action = '{action}' AND patient_id = '{patient}' ORDER BY occurred_at",
                    self.schema(i)
                ),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.try_get("", "outcome").unwrap(),
                    r.try_get("", "reason").unwrap(),
                    r.try_get("", "organisation").unwrap(),
                    r.try_get("", "result_count").unwrap(),
                )
            })
            .collect()
    }
}
