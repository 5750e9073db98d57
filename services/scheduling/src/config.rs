//! The scheduling service's configuration: defaults here, then `config/scheduling.toml` (or
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
    /// PostgreSQL URL of the scheduling service's own database.
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
    pub booking: BookingConfig,
}

/// Which activities allow what here (NHS_RULES §3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Book, reschedule and cancel appointments, hold slots, record outcomes, read the
    /// worklists (B1120 Manage Inbound Appointments).
    pub booking_activity: String,
    /// Set up clinics, session templates and bank holidays, generate and cancel sessions.
    pub clinic_activity: String,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            booking_activity: "B1120".into(),
            clinic_activity: "B1120".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingConfig {
    /// How long a hold keeps a place during a booking conversation.
    pub hold_seconds: u32,
    /// The furthest ahead sessions may be generated in one request.
    pub max_horizon_weeks: u32,
}

impl Default for BookingConfig {
    fn default() -> Self {
        Self {
            hold_seconds: 300,
            max_horizon_weeks: 52,
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
            http: HttpConfig::on(8084, 9084),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_scheduling?sslmode=disable"
                .into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "scheduling".into(),
            roles: RolesConfig::default(),
            booking: BookingConfig::default(),
        }
    }
}
