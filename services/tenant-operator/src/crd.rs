//! The `Trust` custom resource (`tessera.nhs.uk/v1alpha1`, cluster-scoped): one per trust the
//! region serves. The CRD YAML under `k8s/` and the operator's chart is generated from these
//! types (`cargo run -p tessera-tenant-operator --bin crdgen`); a test fails when the committed
//! file differs.
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a region's SRE team declares about a trust.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "tessera.nhs.uk",
    version = "v1alpha1",
    kind = "Trust",
    plural = "trusts",
    shortname = "tr",
    status = "TrustStatus",
    printcolumn = r#"{"name":"ODS","type":"string","jsonPath":".spec.odsCode"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".spec.state"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct TrustSpec {
    /// ODS code of the trust; becomes the tenant id (schemas, topics, tokens' org code).
    #[schemars(regex(pattern = r"^[A-Z0-9]{3,10}$"))]
    pub ods_code: String,
    /// Display name, e.g. "East Lancashire Hospitals NHS Trust".
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// `Suspended` stops every service serving the trust; its data is kept.
    #[serde(default)]
    pub state: TrustState,
    /// The services that serve this trust; empty: every service the operator knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceName>,
    /// Per-trust settings; unset fields take each service's configured defaults.
    #[serde(default)]
    pub settings: TrustSettings,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum TrustState {
    #[default]
    Active,
    Suspended,
}

/// A platform service that can serve a trust.
#[derive(
    Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceName {
    Mpi,
    Access,
    Referrals,
    Scheduling,
    Pas,
    ClinicalDocs,
    Region,
}

impl ServiceName {
    pub const ALL: [ServiceName; 7] = [
        Self::Mpi,
        Self::Access,
        Self::Referrals,
        Self::Scheduling,
        Self::Pas,
        Self::ClinicalDocs,
        Self::Region,
    ];

    /// The name the services call themselves (tenant records' `services`, metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mpi => "mpi",
            Self::Access => "access",
            Self::Referrals => "referrals",
            Self::Scheduling => "scheduling",
            Self::Pas => "pas",
            Self::ClinicalDocs => "clinical-docs",
            Self::Region => "region",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustSettings {
    /// Requests a second the trust may make of each service (the rate limit's budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub rate_limit_per_second: Option<u32>,
}

/// What the operator last saw: written with server-side apply on the status subresource.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Published` (the tenant record is on the tenants topic), `Ready` (every service
    /// serves the trust), `Suspended`, and one `<Service>Ready` per service.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Each service's own report of the trust.
    #[serde(default)]
    pub services: Vec<ServiceStatus>,
    /// The last reconcile error, cleared by the next success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A Kubernetes-style condition.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    #[serde(default)]
    pub message: String,
    /// RFC 3339; changes only when `status` does.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One service's report of the trust (its `/tenants/{ods}` on the management port).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    pub name: String,
    /// `provisioning`, `ready`, `failed`, `suspended`, `not-served`, `unknown` (not yet
    /// heard of the trust) or `unreachable`.
    pub state: String,
    /// The trust's schema is migrated to the service's migrations.
    pub migrated: bool,
    /// The trust's topics exist.
    pub topics_created: bool,
    /// Migrated, topics created, and serving.
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
