use serde::{Deserialize, Serialize};
use std::fmt;
use tessera_nhs::OdsCode;

/// A tenant: one trust, named by its ODS code.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(OdsCode);

#[derive(Debug, thiserror::Error)]
#[error("not a tenant ODS code: {0}")]
pub struct TenantIdError(#[from] tessera_nhs::OdsCodeError);

impl TenantId {
    pub fn parse(input: &str) -> Result<Self, TenantIdError> {
        Ok(Self(OdsCode::parse(input)?))
    }

    pub fn ods(&self) -> &OdsCode {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `t_rxr`. Safe to splice into SQL: an ODS code is only letters and digits.
    pub fn schema(&self) -> String {
        format!("t_{}", self.0.as_str().to_ascii_lowercase())
    }

    /// `tessera.rxr.<service>.<stream>`.
    pub fn topic(&self, service: &str, stream: &str) -> String {
        format!(
            "tessera.{}.{service}.{stream}",
            self.0.as_str().to_ascii_lowercase()
        )
    }

    /// The tenant a topic belongs to, if it is a tenant topic.
    pub fn from_topic(topic: &str) -> Option<Self> {
        let mut parts = topic.split('.');
        (parts.next() == Some("tessera"))
            .then(|| parts.next())
            .flatten()
            // `tessera.platform.*` belongs to no tenant.
            .filter(|segment| *segment != "platform")
            .and_then(|ods| Self::parse(ods).ok())
    }
}

impl From<OdsCode> for TenantId {
    fn from(ods: OdsCode) -> Self {
        Self(ods)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_topics_derive_from_the_ods_code() {
        let t = TenantId::parse("rxr").unwrap();
        assert_eq!(t.as_str(), "RXR");
        assert_eq!(t.schema(), "t_rxr");
        assert_eq!(t.topic("mpi", "patient"), "tessera.rxr.mpi.patient");
        assert_eq!(TenantId::from_topic("tessera.rxr.mpi.patient"), Some(t));
        assert_eq!(TenantId::from_topic("other.rxr.x"), None);
        assert_eq!(TenantId::from_topic("tessera.platform.audit.events"), None);
    }

    #[test]
    fn an_injection_attempt_is_not_a_tenant() {
        assert!(TenantId::parse("rxr; drop schema t_rbt").is_err());
    }
}
