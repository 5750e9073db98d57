//! The regional care record's configuration: defaults here, then `config/region.toml` (or
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
    /// PostgreSQL URL of the service's own database.
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
    pub matching: MatchingConfig,
}

/// Which activities allow what here (NHS_RULES §3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Read a patient's regional summary (B0820 View Patient Demographics, held by every
    /// clinical role; the clinical parts still need a legitimate relationship).
    pub summary_activity: String,
    /// Decide the matcher's proposed regional links (B0825 Amend Patient Demographics: the
    /// trust's patient index team).
    pub link_activity: String,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            summary_activity: "B0820".into(),
            link_activity: "B0825".into(),
        }
    }
}

/// When the matcher proposes that records in two trusts are one person (a review; never a
/// link on its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchingConfig {
    /// The least score, in bits, that raises a review.
    pub review_bits: f64,
    /// Candidates compared per trust (those born on the same day).
    pub candidates_per_trust: u64,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self {
            review_bits: 5.0,
            candidates_per_trust: 50,
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
            http: HttpConfig::on(8087, 9087),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_region?sslmode=disable"
                .into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "region".into(),
            roles: RolesConfig::default(),
            matching: MatchingConfig::default(),
        }
    }
}
