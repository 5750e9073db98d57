//! The patient pathway identifier (PPID) of an RTT pathway: up to 20 letters and digits, and
//! the organisation that issued it (an ODS code; X09 for a PPID made from an e-RS UBRN). One
//! rule for every service that names pathways (referrals, scheduling, PAS).
use crate::{OdsCode, OdsCodeError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PpidError {
    #[error("a PPID is 1–20 letters and digits")]
    Id,
    #[error("the issuer is an ORG code, X09 for UBRNs: {0}")]
    Issuer(OdsCodeError),
}

/// A PPID and its issuer, both upper case.
pub fn parse_ppid(id: &str, issuer: &str) -> Result<(String, OdsCode), PpidError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PpidError::Id);
    }
    let issuer = OdsCode::parse(issuer).map_err(PpidError::Issuer)?;
    Ok((id.to_ascii_uppercase(), issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ppid_is_twenty_letters_and_digits_issued_by_an_ods_code() {
        let (id, issuer) = parse_ppid(" rxr0042 ", "rxr").unwrap();
        assert_eq!((id.as_str(), issuer.as_str()), ("RXR0042", "RXR"));
        assert_eq!(parse_ppid("", "RXR"), Err(PpidError::Id));
        assert_eq!(parse_ppid(&"1".repeat(21), "RXR"), Err(PpidError::Id));
        assert_eq!(parse_ppid("AB-1", "RXR"), Err(PpidError::Id));
        assert!(matches!(parse_ppid("A1", "R"), Err(PpidError::Issuer(_))));
        assert!(
            parse_ppid("A1", "TABCDEF").is_ok(),
            "7-character ODS codes are issuers too"
        );
    }
}
