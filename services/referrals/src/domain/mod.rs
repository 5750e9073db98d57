//! Parsed domain types, no I/O: the e-RS lifecycle and its legal transitions ([`referral`]),
//! UBRNs, pathway identifiers and record ids ([`ids`]), and the small values ([`values`]).
//! Clock events are the RTT engine's own [`EventKind`], read by name there. Parsing happens
//! once at the edge; everything behind it holds these types.
mod ids;
mod referral;
mod values;

pub use ids::{PathwayId, Ppid, ReferralId, Ubrn, UBRN_ISSUER};
pub use referral::{Priority, ReferralState, Source};
pub use tessera_rtt::{ClockFlags, EventKind};
pub use values::{code, date, specialty_code};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("a referral in state {from} cannot move to {to}")]
    IllegalTransition {
        from: ReferralState,
        to: ReferralState,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            code,
            message: message.into(),
        }
    }
}

impl From<tessera_rtt::KindError> for DomainError {
    fn from(e: tessera_rtt::KindError) -> Self {
        Self::Invalid {
            field: e.field,
            code: e.code,
            message: e.message,
        }
    }
}
