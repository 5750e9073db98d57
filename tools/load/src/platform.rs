//! What `cargo xtask up` wrote for scripts: `.tessera/platform.json`.
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Platform {
    pub services: BTreeMap<String, ServiceUrls>,
    pub kafka: Kafka,
    pub postgres: String,
    pub trusts: BTreeMap<String, Trust>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceUrls {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Kafka {
    pub bootstrap: String,
}

#[derive(Clone, Deserialize)]
pub struct Trust {
    pub tokens: Tokens,
}

/// Bearer tokens: never shown by `Debug`.
#[derive(Clone, Deserialize)]
pub struct Tokens {
    pub registration_clerk: String,
    pub viewer: String,
    pub privacy_officer: String,
    pub emergency_clinician: String,
    pub referrals_gsurg: String,
    /// Booking staff (B1120); absent from a platform file written before scheduling.
    #[serde(default)]
    pub booking_clerk: String,
    /// Ward staff (B0264); absent from a platform file written before PAS.
    #[serde(default)]
    pub ward_staff: String,
    /// A clinician of the load ward's team (B0380); absent before clinical documentation.
    #[serde(default)]
    pub clinician: String,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trust { tokens: <redacted> }")
    }
}

impl Platform {
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e} (run `cargo xtask up` first)", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn url(&self, service: &str) -> Result<&str, String> {
        self.services
            .get(service)
            .map(|s| s.url.as_str())
            .ok_or_else(|| format!("platform.json names no service {service}"))
    }
}
