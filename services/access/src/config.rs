//! The access service's configuration: defaults here, then `config/access.toml` (or
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
    /// PostgreSQL URL of the access service's own database.
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
    /// Seconds between heartbeats on each trust's access topics (projections' clock).
    pub heartbeat_seconds: u64,
    /// Seconds between publications of each trust's audit chain head (when it moved).
    pub audit_head_seconds: u64,
    /// How many of the newest published heads verify checks (per partition).
    pub audit_heads_checked: i64,
    pub break_glass: BreakGlassConfig,
    pub relationships: RelationshipConfig,
    pub roles: RolesConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakGlassConfig {
    /// Shortest and longest grant a caller may ask for, and the default.
    pub min_seconds: i64,
    pub max_seconds: i64,
    pub default_seconds: i64,
}

impl Default for BreakGlassConfig {
    fn default() -> Self {
        Self {
            min_seconds: 300,
            max_seconds: 4 * 3600,
            default_seconds: 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RelationshipConfig {
    /// Days a relationship created by a referral, admission or appointment outlives the
    /// closure of what created it, unless the trust sets its own (`PUT /relationship-rules`).
    pub default_grace_days: i64,
    /// Longest self-claimed or colleague-granted relationship, in days.
    pub max_claim_days: i64,
}

impl Default for RelationshipConfig {
    fn default() -> Self {
        Self {
            default_grace_days: 28,
            max_claim_days: 30,
        }
    }
}

/// Which roles may do what here. No national B-codes are verified for managing
/// relationships, seals or the audit trail (docs/adr/0015-access-service.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Claim a relationship (self-claimed, colleague-granted, patient consent).
    pub claim_activity: String,
    /// Record seals, consent directives, teams and caseloads.
    pub manage_activity: String,
    /// Job roles of the privacy officer's queue and the audit store (R0001 Privacy Officer,
    /// R5105 Caldicott Guardian).
    pub privacy_job_roles: Vec<String>,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            claim_activity: "B0820".into(),
            manage_activity: "B0825".into(),
            privacy_job_roles: vec!["R0001".into(), "R5105".into()],
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
            http: HttpConfig::on(8082, 9082),
            database_url: "postgres://postgres@127.0.0.1:5432/tessera_access?sslmode=disable"
                .into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "access".into(),
            heartbeat_seconds: 5,
            audit_head_seconds: 10,
            audit_heads_checked: 10_000,
            break_glass: BreakGlassConfig::default(),
            relationships: RelationshipConfig::default(),
            roles: RolesConfig::default(),
        }
    }
}
