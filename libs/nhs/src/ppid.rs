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

/// A PPID and its issuer as an API takes them — both or neither: `Ok(None)` for neither,
/// else the pair; an error names the field at fault (`ppid` or `ppid_issuer`) and says why.
pub fn parse_ppid_fields(
    id: Option<&str>,
    issuer: Option<&str>,
) -> Result<Option<(String, OdsCode)>, (&'static str, String)> {
    match (id, issuer) {
        (None, None) => Ok(None),
        (Some(i), Some(o)) => parse_ppid(i, o).map(Some).map_err(|e| {
            let field = match e {
                PpidError::Id => "ppid",
                PpidError::Issuer(_) => "ppid_issuer",
            };
            (field, e.to_string())
        }),
        _ => Err((
            "ppid",
            "ppid (up to 20 letters and digits) and ppid_issuer (an ODS code), both or neither"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_both_or_neither_and_name_what_is_wrong() {
        assert_eq!(parse_ppid_fields(None, None), Ok(None));
        assert!(parse_ppid_fields(Some("A1"), Some("RXR")).is_ok_and(|p| p.is_some()));
        assert_eq!(
            parse_ppid_fields(Some("A1"), None).map_err(|e| e.0),
            Err("ppid")
        );
        assert_eq!(
            parse_ppid_fields(Some("A-1"), Some("RXR")).map_err(|e| e.0),
            Err("ppid")
        );
        assert_eq!(
            parse_ppid_fields(Some("A1"), Some("R")).map_err(|e| e.0),
            Err("ppid_issuer")
        );
    }

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
