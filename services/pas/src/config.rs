//! The PAS service's configuration: defaults here, then `config/pas.toml` (or
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
    /// PostgreSQL URL of the PAS service's own database.
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
    pub beds: BedsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BedsConfig {
    /// A bed a patient leaves (discharge) goes to `cleaning`, and is available again when
    /// housekeeping says so (`PUT /beds/{id}/state`); `false`: straight back to available.
    pub clean_after_discharge: bool,
}

impl Default for BedsConfig {
    fn default() -> Self {
        Self {
            clean_after_discharge: true,
        }
    }
}

/// Which activities allow what here (NHS_RULES §3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Admit, transfer, change consultant, discharge, cancel; read the bed board
    /// (B0264 Manage Inpatient Records, or the trust's equivalent).
    pub ward_activity: String,
    /// Set up wards and beds, change a bed's state.
    pub bed_activity: String,
    /// Keep the admitted waiting list: decisions to admit, offers, suspensions, removals,
    /// the census.
    pub waiting_list_activity: String,
    /// Read and code activity, take the extract and the reconciliation report
    /// (B0370 Clinical Coding, or the trust's equivalent).
    pub coding_activity: String,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            ward_activity: "B0264".into(),
            bed_activity: "B0264".into(),
            waiting_list_activity: "B0264".into(),
            coding_activity: "B0370".into(),
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
            http: HttpConfig::on(8085, 9085),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_pas?sslmode=disable".into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "pas".into(),
            roles: RolesConfig::default(),
            beds: BedsConfig::default(),
        }
    }
}
