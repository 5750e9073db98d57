//! Identifiers: the e-RS UBRN, the patient pathway identifier (PPID), and the typed ids of
//! this service's own records.
use super::DomainError;
use serde::Serialize;

tessera_edge::uuid_id!(
    /// A referral.
    ReferralId
);
tessera_edge::uuid_id!(
    /// An RTT pathway (this trust's record of it; the PPID is the national identifier).
    PathwayId
);

/// The e-RS Unique Booking Reference Number: 12 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ubrn(String);

impl Ubrn {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 12 && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(DomainError::invalid(
                "ubrn",
                "format",
                "a UBRN is 12 digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pathway identifier a UBRN gives: the UBRN padded to 20 characters with leading
    /// zeros, issued by X09 (NHS_RULES §2; the padding side is our reading, ADR 18).
    pub fn ppid(&self) -> Ppid {
        Ppid {
            id: format!("{:0>20}", self.0),
            issuer: UBRN_ISSUER.to_string(),
        }
    }
}

/// The issuer of UBRN-based pathway identifiers.
pub const UBRN_ISSUER: &str = "X09";

/// Patient pathway identifier: up to 20 letters and digits, and the organisation that issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ppid {
    pub id: String,
    pub issuer: String,
}

impl Ppid {
    pub fn parse(id: &str, issuer: &str) -> Result<Self, DomainError> {
        use tessera_nhs::PpidError;
        let (id, issuer) = tessera_nhs::parse_ppid(id, issuer).map_err(|e| match e {
            PpidError::Id => DomainError::invalid("ppid", "format", e.to_string()),
            PpidError::Issuer(_) => DomainError::invalid("ppid_issuer", "format", e.to_string()),
        })?;
        Ok(Self {
            id,
            issuer: issuer.as_str().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubrn_and_its_ppid() {
        let u = Ubrn::parse("0001 2345 6789").unwrap_or_else(|_| Ubrn(String::new()));
        assert_eq!(u.as_str(), "000123456789");
        let p = u.ppid();
        assert_eq!(p.id, "00000000000123456789");
        assert_eq!(p.id.len(), 20);
        assert_eq!(p.issuer, "X09");
        assert!(Ubrn::parse("12345").is_err());
        assert!(Ubrn::parse("12345678901A").is_err());
    }

    #[test]
    fn ppids_are_bounded() {
        assert!(Ppid::parse("ABC123", "rxr").is_ok_and(|p| p.issuer == "RXR"));
        assert!(Ppid::parse("A".repeat(21).as_str(), "RXR").is_err());
        assert!(Ppid::parse("AB-1", "RXR").is_err());
        assert!(Ppid::parse("AB1", "R").is_err());
    }
}
