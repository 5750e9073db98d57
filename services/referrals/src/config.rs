//! The referrals service's configuration: defaults here, then `config/referrals.toml` (or
//! `TESSERA_CONFIG`), then `TESSERA_*` environment variables.
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
    /// PostgreSQL URL of the referrals service's own database.
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    pub kafka: KafkaSettings,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub telemetry: TelemetryConfig,
    pub tenancy: TenancyConfig,
    pub shutdown_grace_seconds: u64,
    /// Consumer groups are `<prefix>.<purpose>`; replicas of one deployment share them.
    pub consumer_group_prefix: String,
    pub roles: RolesConfig,
    pub waiting_list: WaitingListConfig,
}

/// Which activities allow what here (NHS_RULES §3: e-RS business roles).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Receive, triage and progress referrals, record clock events (B1110 Manage Inbound
    /// Referrals). Reading a referral also needs a legitimate relationship with the patient,
    /// or being its receiving team or clinician.
    pub referral_activity: String,
    /// Read the waiting list, its standard and forecast, and export it (management
    /// information: patient ids and dates, no clinical content).
    pub waiting_list_activity: String,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            referral_activity: "B1110".into(),
            waiting_list_activity: "B1110".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WaitingListConfig {
    /// Rows in one JSON page of the waiting list, unless the caller asks for fewer.
    pub default_page: usize,
    pub max_page: usize,
}

impl Default for WaitingListConfig {
    fn default() -> Self {
        Self {
            default_page: 500,
            max_page: 10_000,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TenancyConfig {
    /// Serve only these tenants (ODS codes). Unset: every tenant on the tenants topic.
    pub only: Option<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpConfig::on(8083, 9083),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_referrals?sslmode=disable"
                .into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "referrals".into(),
            roles: RolesConfig::default(),
            waiting_list: WaitingListConfig::default(),
        }
    }
}
