use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A 10-digit NHS number whose Modulus 11 check digit is right (NHS Data Dictionary).
/// Stored as the 10-digit string; input may carry the usual `3 3 4` spaces or dashes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("an NHS number has exactly 10 digits")]
    WrongLength,
    #[error("an NHS number contains only digits")]
    NotNumeric,
    #[error("the check digit is wrong")]
    WrongCheckDigit,
    #[error("check value 10: this number is never issued")]
    CheckValueTen,
}

impl NhsNumberError {
    /// Stable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongLength => "nhs-number.length",
            Self::NotNumeric => "nhs-number.not-numeric",
            Self::WrongCheckDigit => "nhs-number.check-digit",
            Self::CheckValueTen => "nhs-number.check-value-10",
        }
    }
}

impl NhsNumber {
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        if compact.chars().any(|c| !c.is_ascii_digit()) {
            return Err(NhsNumberError::NotNumeric);
        }
        if compact.len() != 10 {
            return Err(NhsNumberError::WrongLength);
        }
        let digits: Vec<u32> = compact.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits
            .iter()
            .take(9)
            .zip((2..=10).rev())
            .map(|(d, w)| d * w)
            .sum();
        let check = match 11 - (sum % 11) {
            11 => 0,
            10 => return Err(NhsNumberError::CheckValueTen),
            c => c,
        };
        if digits.get(9) != Some(&check) {
            return Err(NhsNumberError::WrongCheckDigit);
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `943 476 5919`, the form people read.
    pub fn display_spaced(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(***)")
    }
}

impl Serialize for NhsNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
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
    fn the_digest_s_valid_vectors_parse() {
        for n in [
            "9434765919",
            "9876543210",
            "4000000632",
            "9000000009",
            "9000000025",
            "9990000018",
            "9990548609",
            "0101011113",
            "0000000000",
        ] {
            assert!(NhsNumber::parse(n).is_ok(), "{n} should be valid");
        }
    }

    #[test]
    fn the_digest_s_invalid_vectors_fail_for_the_right_reason() {
        use NhsNumberError::*;
        let cases = [
            ("9434765918", WrongCheckDigit),
            ("1234567890", CheckValueTen),
            ("9991234560", CheckValueTen),
            ("9219068409", WrongCheckDigit),
            ("9912345678", WrongCheckDigit),
            ("9900000019", WrongCheckDigit),
            ("12345", WrongLength),
            ("94347659191", WrongLength),
            ("987654321X", NotNumeric),
            ("", WrongLength),
        ];
        for (n, want) in cases {
            assert_eq!(NhsNumber::parse(n), Err(want), "{n}");
        }
    }

    #[test]
    fn spaces_and_dashes_are_accepted_and_dropped() {
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(n.as_str(), "9434765919");
        assert_eq!(n.display_spaced(), "943 476 5919");
        assert_eq!(NhsNumber::parse("943-476-5919").unwrap(), n);
    }

    #[test]
    fn debug_masks_the_number() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("943"));
    }

    fn check_digit(nine: &[u32]) -> Option<u32> {
        let sum: u32 = nine.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c),
        }
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_accepted(nine in proptest::collection::vec(0u32..10, 9)) {
            let stem: String = nine.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            let accepted: Vec<u32> = (0..10)
                .filter(|d| NhsNumber::parse(&format!("{stem}{d}")).is_ok())
                .collect();
            match check_digit(&nine) {
                Some(c) => prop_assert_eq!(accepted, vec![c]),
                None => prop_assert!(accepted.is_empty()),
            }
        }

        #[test]
        fn any_single_digit_change_of_a_valid_number_is_caught(
            nine in proptest::collection::vec(0u32..10, 9), pos in 0usize..10, delta in 1u32..10
        ) {
            if let Some(c) = check_digit(&nine) {
                let mut all = nine.clone();
                all.push(c);
                all[pos] = (all[pos] + delta) % 10;
                let s: String = all.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
                prop_assert!(NhsNumber::parse(&s).is_err());
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = NhsNumber::parse(&s);
        }

        #[test]
        fn serde_round_trips(nine in proptest::collection::vec(0u32..10, 9)) {
            if let Some(c) = check_digit(&nine) {
                let s: String = nine.iter().chain([c].iter()).map(|d| char::from_digit(*d, 10).unwrap()).collect();
                let n = NhsNumber::parse(&s).unwrap();
                let json = serde_json::to_string(&n).unwrap();
                let back: NhsNumber = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(back, n);
            }
        }
    }
}
