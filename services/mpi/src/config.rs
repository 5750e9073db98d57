//! The MPI's configuration: defaults here, then `config/mpi.toml` (or `TESSERA_CONFIG`), then
//! `TESSERA_*` environment variables (e.g. `TESSERA_HTTP__PORT=8081`).
use serde::{Deserialize, Serialize};
use tessera_access::AuthConfig;
use tessera_bootstrap::telemetry::TelemetryConfig;
pub use tessera_edge::foundation::HttpConfig;
use tessera_edge::RateLimitConfig;
use tessera_tenancy::KafkaSettings;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpConfig,
    /// PostgreSQL URL of the MPI's own database.
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    pub kafka: KafkaSettings,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub telemetry: TelemetryConfig,
    pub tenancy: TenancyConfig,
    /// Seconds a finished idempotent response is kept for replay.
    pub idempotency_ttl_seconds: u64,
    /// Seconds to drain in-flight work on shutdown.
    pub shutdown_grace_seconds: u64,
    pub hl7: Hl7Config,
    /// The activity that permits seeing a restricted (S-flagged) patient's address, telecom
    /// and GP. No national B-code for this is verified; B0083 (gain temporary access to
    /// sealed data) is the nearest, and a trust may set another (docs/adr/0010).
    pub restricted_activity: String,
    /// Consumer groups are `<prefix>.<purpose>`; replicas of one deployment share them.
    pub consumer_group_prefix: String,
}

/// HL7 v2 over MLLP: one listener per trust, so the connection names the trust (each trust's
/// interface engine reaches its own port, through its own network path).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Hl7Config {
    pub listeners: Vec<MllpListener>,
    /// A frame larger than this is dropped (and the connection told nothing: no message).
    pub max_message_bytes: usize,
    /// A connection silent this long is closed.
    pub idle_timeout_seconds: u64,
    /// Days the ACK of each message is kept to answer resends; older ones are purged hourly.
    pub ack_retention_days: u32,
    /// How often the purge runs.
    pub ack_purge_interval_seconds: u64,
}

impl Default for Hl7Config {
    fn default() -> Self {
        Self {
            listeners: Vec::new(),
            max_message_bytes: 1 << 20,
            idle_timeout_seconds: 300,
            ack_retention_days: 90,
            ack_purge_interval_seconds: 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MllpListener {
    /// The trust's ODS code.
    pub tenant: String,
    #[serde(default = "default_host")]
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
}

fn default_host() -> String {
    "127.0.0.1".into()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TenancyConfig {
    /// Serve only these tenants (ODS codes). Unset: every tenant on the tenants topic.
    /// Lets one deployment serve a subset of trusts, and keeps tests to their own tenants.
    pub only: Option<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpConfig::on(8081, 9081),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_mpi?sslmode=disable".into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            idempotency_ttl_seconds: 86_400,
            shutdown_grace_seconds: 30,
            hl7: Hl7Config::default(),
            restricted_activity: "B0083".into(),
            consumer_group_prefix: "mpi".into(),
        }
    }
}
