//! The clinical documentation service's configuration: defaults here, then
//! `config/clinical-docs.toml` (or `TESSERA_CONFIG`), then `TESSERA_*` environment variables.
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
    pub attachments: AttachmentsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentsConfig {
    /// The largest attachment kept, in bytes (a scanned letter is well under 1 MiB; a
    /// multi-page scan at 300 dpi a few MiB). Larger is 413 `attachment.too-large`.
    pub max_bytes: usize,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Which activities allow what here (NHS_RULES §3). No national B-code for clinical
/// documentation was found in a verified source: each trust maps its own (docs/services/clinical-docs.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Write and read a patient's documents and assessments (with a legitimate relationship,
    /// and the document's seal permitting).
    pub document_activity: String,
    /// Set up document types and save templates.
    pub template_activity: String,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            document_activity: "B0380".into(),
            template_activity: "B0380".into(),
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
            http: HttpConfig::on(8086, 9086),
            database_url:
                "postgres://postgres@127.0.0.1:5432/tessera_clinical_docs?sslmode=disable".into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            kafka: KafkaSettings::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            telemetry: TelemetryConfig::default(),
            tenancy: TenancyConfig::default(),
            shutdown_grace_seconds: 30,
            consumer_group_prefix: "clinical-docs".into(),
            roles: RolesConfig::default(),
            attachments: AttachmentsConfig::default(),
        }
    }
}
