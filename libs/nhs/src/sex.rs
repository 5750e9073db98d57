use serde::{Deserialize, Serialize};

/// FHIR administrative gender (and HL7 v2 table 0001's M/F/O/U).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdministrativeSex {
    Male,
    Female,
    Other,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("administrative sex is one of male, female, other, unknown")]
pub struct AdministrativeSexError;

impl AdministrativeSex {
    pub fn parse(input: &str) -> Result<Self, AdministrativeSexError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "male" | "m" => Ok(Self::Male),
            "female" | "f" => Ok(Self::Female),
            "other" | "o" => Ok(Self::Other),
            "unknown" | "u" => Ok(Self::Unknown),
            _ => Err(AdministrativeSexError),
        }
    }

    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_and_hl7_codes_parse_and_round_trip() {
        for s in [
            AdministrativeSex::Male,
            AdministrativeSex::Female,
            AdministrativeSex::Other,
            AdministrativeSex::Unknown,
        ] {
            assert_eq!(AdministrativeSex::parse(s.as_str()), Ok(s));
        }
        assert_eq!(AdministrativeSex::parse("F"), Ok(AdministrativeSex::Female));
        assert!(AdministrativeSex::parse("x").is_err());
    }
}
