//! Clinical coding as coders enter it, format-checked (NHS_RULES §6): ICD-10 diagnoses
//! (`J18.9`, `A00`, `M80.0A`) and OPCS-4 procedures (`W40.1`). Held with the dot, as the
//! classifications print them; the CDS extract drops it. The format is checked, not the
//! classification's tables: those are licensed and change yearly, so a coding system of the
//! trust's owns that check.
use super::DomainError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Icd10(String);

impl Icd10 {
    /// A letter and two digits, then optionally a subdivision (a digit or `X`) and a fifth
    /// character (a digit or letter), with or without the dot.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "diagnoses",
                "format",
                "ICD-10: a letter, two digits, optionally a dot and one or two characters (J18.9)",
            )
        };
        let t: Vec<char> = s
            .trim()
            .to_ascii_uppercase()
            .replace('.', "")
            .chars()
            .collect();
        let head = t.len() >= 3
            && t[0].is_ascii_uppercase()
            && t[1].is_ascii_digit()
            && t[2].is_ascii_digit();
        let sub_ok = t.get(3).is_none_or(|c| c.is_ascii_digit() || *c == 'X');
        let fifth_ok = t.get(4).is_none_or(|c| c.is_ascii_alphanumeric());
        if !head || t.len() > 5 || !sub_ok || !fifth_ok {
            return Err(bad());
        }
        let code: String = t[..3].iter().collect();
        Ok(Self(if t.len() > 3 {
            format!("{code}.{}", t[3..].iter().collect::<String>())
        } else {
            code
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opcs4(String);

impl Opcs4 {
    /// A chapter letter (not `I`), two digits and one, with or without the dot (`W40.1`).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t: Vec<char> = s
            .trim()
            .to_ascii_uppercase()
            .replace('.', "")
            .chars()
            .collect();
        let ok = t.len() == 4
            && t[0].is_ascii_uppercase()
            && t[0] != 'I'
            && t[1..].iter().all(char::is_ascii_digit);
        if !ok {
            return Err(DomainError::invalid(
                "procedures",
                "format",
                "OPCS-4: a chapter letter, two digits, a dot and a digit (W40.1)",
            ));
        }
        let code: String = t[..3].iter().collect();
        Ok(Self(format!("{code}.{}", t[3])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10_takes_the_classifications_shapes() {
        for (given, held) in [
            ("J18.9", "J18.9"),
            ("j189", "J18.9"),
            ("A00", "A00"),
            ("S72.0X", "S72.0X"),
            ("M80.0A", "M80.0A"),
            ("U07.1", "U07.1"),
        ] {
            assert_eq!(Icd10::parse(given).map(|c| c.0), Ok(held.to_string()));
        }
        for bad in ["", "J1", "18.9", "JJ8.9", "J18.99.1", "J18.A", "J18.9-"] {
            assert!(Icd10::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn opcs4_takes_a_chapter_three_digits() {
        assert_eq!(Opcs4::parse("w401").map(|c| c.0), Ok("W40.1".to_string()));
        assert_eq!(Opcs4::parse("H01.1").map(|c| c.0), Ok("H01.1".to_string()));
        for bad in ["", "W40", "W40.12", "I10.1", "940.1", "WW0.1"] {
            assert!(Opcs4::parse(bad).is_err(), "{bad}");
        }
    }
}
