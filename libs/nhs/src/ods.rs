use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An Organisation Data Service code: 3 characters for a trust, 5 for a site, 6 for a GP
/// practice, up to 10 for the rarer kinds. Letters and digits, stored upper case.
/// Not patient data, so it prints plainly.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdsCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdsCodeError {
    #[error("an ODS code has 3 to 10 characters")]
    WrongLength,
    #[error("an ODS code has only letters and digits")]
    BadCharacter,
}

impl OdsCode {
    pub fn parse(input: &str) -> Result<Self, OdsCodeError> {
        let s = input.trim();
        if !(3..=10).contains(&s.len()) {
            return Err(OdsCodeError::WrongLength);
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(OdsCodeError::BadCharacter);
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OdsCode({})", self.0)
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for OdsCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OdsCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trust_site_and_practice_codes_parse_and_upper_case() {
        assert_eq!(OdsCode::parse("rxr").unwrap().as_str(), "RXR");
        assert!(OdsCode::parse("RXX01").is_ok());
        assert!(OdsCode::parse("A99999").is_ok());
    }

    #[test]
    fn junk_is_refused() {
        assert_eq!(OdsCode::parse("R"), Err(OdsCodeError::WrongLength));
        assert_eq!(OdsCode::parse("R;DROP"), Err(OdsCodeError::BadCharacter));
        assert_eq!(OdsCode::parse("t_rxr"), Err(OdsCodeError::BadCharacter));
    }

    proptest! {
        #[test]
        fn a_parsed_code_is_always_safe_in_an_identifier(s in "\\PC{0,12}") {
            if let Ok(code) = OdsCode::parse(&s) {
                prop_assert!(code.as_str().chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
            }
        }
    }
}
