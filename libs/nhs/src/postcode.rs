use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UK postcode in its canonical form, outward and inward parts separated by one space
/// (`LS1 4AP`). Patient data: masked in `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("a postcode has 5 to 7 letters and digits")]
    WrongLength,
    #[error("not a UK postcode shape (e.g. LS1 4AP)")]
    BadShape,
}

impl Postcode {
    pub fn parse(input: &str) -> Result<Self, PostcodeError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(5..=7).contains(&compact.chars().count()) {
            return Err(PostcodeError::WrongLength);
        }
        if compact == "GIR0AA" {
            return Ok(Self("GIR 0AA".into()));
        }
        let bytes = compact.as_bytes();
        let (outward, inward) = bytes.split_at(bytes.len() - 3);
        let inward_ok = inward[0].is_ascii_digit()
            && inward[1].is_ascii_alphabetic()
            && inward[2].is_ascii_alphabetic();
        // Outward: a letter, then one or two letters or digits, ending in a digit or letter,
        // always containing a digit (A9, A99, AA9, AA99, A9A, AA9A).
        let outward_ok = outward.first().is_some_and(u8::is_ascii_alphabetic)
            && outward.iter().all(u8::is_ascii_alphanumeric)
            && outward.iter().any(u8::is_ascii_digit)
            && (2..=4).contains(&outward.len());
        if !(inward_ok && outward_ok) {
            return Err(PostcodeError::BadShape);
        }
        let outward = String::from_utf8_lossy(outward);
        let inward = String::from_utf8_lossy(inward);
        Ok(Self(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Postcode(***)")
    }
}

impl Serialize for Postcode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Postcode {
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
    fn common_shapes_normalise() {
        for (i, want) in [
            ("ls14ap", "LS1 4AP"),
            ("SW1A 1AA", "SW1A 1AA"),
            ("m1 1ae", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 0AX", "W1A 0AX"),
            ("gir0aa", "GIR 0AA"),
        ] {
            assert_eq!(Postcode::parse(i).unwrap().as_str(), want);
        }
    }

    #[test]
    fn non_postcodes_are_refused() {
        assert_eq!(Postcode::parse("1234"), Err(PostcodeError::WrongLength));
        assert_eq!(Postcode::parse("12345"), Err(PostcodeError::BadShape));
        assert_eq!(Postcode::parse("LS1 AAP"), Err(PostcodeError::BadShape));
        assert_eq!(Postcode::parse("LS-1 4AP"), Err(PostcodeError::BadShape));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_is_idempotent(s in "\\PC{0,10}") {
            if let Ok(p) = Postcode::parse(&s) {
                prop_assert_eq!(Postcode::parse(p.as_str()).unwrap(), p);
            }
        }
    }
}
