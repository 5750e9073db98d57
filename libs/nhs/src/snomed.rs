//! SNOMED CT concept identifiers (SCTIDs): 6 to 18 digits, no leading zero, a partition
//! identifier saying it is a concept (`00` short form, `10` with a namespace), and a
//! Verhoeff check digit last (SNOMED CT Technical Implementation Guide, 6.1–6.4).
use serde::{Serialize, Serializer};
use std::fmt;

/// A SNOMED CT concept id whose form and check digit are right. Whether the concept exists
/// (and is active, and means what the caller thinks) is for a terminology server.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConceptId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConceptIdError {
    #[error("a SNOMED CT concept id is 6 to 18 digits, not starting with 0")]
    Format,
    #[error("not a concept id (its partition identifier is {0})")]
    Partition(String),
    #[error("the check digit is wrong")]
    CheckDigit,
}

const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 7, 6, 8, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether the digits, check digit last, pass Verhoeff's check.
fn verhoeff(digits: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(d)])];
    }
    c == 0
}

impl ConceptId {
    pub fn parse(s: &str) -> Result<Self, ConceptIdError> {
        let s = s.trim();
        let ok = (6..=18).contains(&s.len())
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(ConceptIdError::Format);
        }
        let partition = &s[s.len() - 3..s.len() - 1];
        if partition != "00" && partition != "10" {
            return Err(ConceptIdError::Partition(partition.to_string()));
        }
        let digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        if !verhoeff(&digits) {
            return Err(ConceptIdError::CheckDigit);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConceptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ConceptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ConceptId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn published_concepts_pass() {
        // Myocardial infarction; discharge summary; report of clinical encounter; progress
        // report; Royal College of Physicians NEWS2 chart (UK extension, namespace 1000000).
        for id in [
            "22298006",
            "373942005",
            "371531000",
            "371532007",
            "1363501000000100",
        ] {
            assert_eq!(ConceptId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn one_wrong_digit_or_a_swap_is_caught() {
        assert_eq!(
            ConceptId::parse("22298007"),
            Err(ConceptIdError::CheckDigit)
        );
        assert_eq!(
            ConceptId::parse("22928006"),
            Err(ConceptIdError::CheckDigit)
        );
    }

    #[test]
    fn descriptions_and_relationships_are_not_concepts() {
        // A description id (partition 01).
        assert!(matches!(
            ConceptId::parse("2154016"),
            Err(ConceptIdError::Partition(_))
        ));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for s in ["", "12345", "0123456", "12a4567", "1234567890123456789"] {
            assert_eq!(ConceptId::parse(s), Err(ConceptIdError::Format), "{s}");
        }
    }
}
