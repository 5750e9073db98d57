//! The NHS Data Dictionary's codes an admission and a discharge carry (NHS_RULES §6), each
//! parsed from the code the Dictionary gives it, so a CDS record built from them is valid.
use super::DomainError;
use serde::Serialize;

macro_rules! code_set {
    ($(#[$m:meta])* $name:ident, $field:literal, [$($code:literal),+ $(,)?]) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        pub struct $name(String);

        impl $name {
            pub const CODES: &'static [&'static str] = &[$($code),+];

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                let s = s.trim().to_ascii_uppercase();
                if Self::CODES.contains(&s.as_str()) {
                    Ok(Self(s))
                } else {
                    Err(DomainError::invalid(
                        $field,
                        "code",
                        format!("one of the Data Dictionary's codes: {}", Self::CODES.join(", ")),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

code_set!(
    /// ADMISSION METHOD: elective 11–13, emergency 21–28 and 2A–2D, maternity 31–32,
    /// other 81–83.
    AdmissionMethod,
    "admission_method",
    [
        "11", "12", "13", "21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28", "31",
        "32", "81", "82", "83"
    ]
);

impl AdmissionMethod {
    /// Elective (from the admitted waiting list, booked or planned).
    pub fn elective(&self) -> bool {
        self.0.starts_with('1')
    }
}

code_set!(
    /// SOURCE OF ADMISSION (hospital provider spell).
    AdmissionSource,
    "admission_source",
    [
        "19", "29", "37", "39", "40", "49", "51", "52", "53", "54", "65", "66", "69", "79",
        "85", "87", "88", "98", "99"
    ]
);

code_set!(
    /// INTENDED MANAGEMENT: 1 ordinary admission, 2 day case, 3 regular day, 4 regular
    /// night, 5 mother and baby using delivery facilities only, 8 not applicable, 9 not known.
    IntendedManagement,
    "intended_management",
    ["1", "2", "3", "4", "5", "8", "9"]
);

code_set!(
    /// DISCHARGE METHOD: 1 on clinical advice, 2 self or relative, 3 by a court, 4 died,
    /// 5 stillbirth, 8 not applicable (still in), 9 not known.
    DischargeMethod,
    "discharge_method",
    ["1", "2", "3", "4", "5", "8", "9"]
);

code_set!(
    /// DISCHARGE DESTINATION (hospital provider spell).
    DischargeDestination,
    "discharge_destination",
    [
        "19", "29", "30", "37", "38", "48", "49", "50", "51", "52", "53", "54", "65", "66",
        "69", "79", "84", "85", "87", "88", "98", "99"
    ]
);

/// Why the patient is admitted, as the RTT rules need it (docs/contracts/clock-events.md):
/// `treatment` (first definitive treatment: the clock stops, code 30); the others do not
/// stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionPurpose {
    Treatment,
    Diagnostic,
    PreOperative,
    ProcedureNotDone,
}

impl AdmissionPurpose {
    pub const NAMES: &'static [&'static str] = &[
        "treatment",
        "diagnostic",
        "pre-operative",
        "procedure-not-done",
    ];

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "treatment" => Ok(Self::Treatment),
            "diagnostic" => Ok(Self::Diagnostic),
            "pre-operative" => Ok(Self::PreOperative),
            "procedure-not-done" => Ok(Self::ProcedureNotDone),
            _ => Err(DomainError::invalid(
                "admission_purpose",
                "code",
                Self::NAMES.join(", "),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Treatment => "treatment",
            Self::Diagnostic => "diagnostic",
            Self::PreOperative => "pre-operative",
            Self::ProcedureNotDone => "procedure-not-done",
        }
    }
}

/// A bed's own state; `occupied` is not one of them — it follows from the patient in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BedState {
    Available,
    Closed,
    Cleaning,
}

impl BedState {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "available" => Ok(Self::Available),
            "closed" => Ok(Self::Closed),
            "cleaning" => Ok(Self::Cleaning),
            _ => Err(DomainError::invalid(
                "state",
                "code",
                "available, closed or cleaning (occupied follows from a patient in it)",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Closed => "closed",
            Self::Cleaning => "cleaning",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_from_the_dictionary_and_nothing_else() {
        assert!(AdmissionMethod::parse("2a").is_ok_and(|m| m.as_str() == "2A"));
        assert!(AdmissionMethod::parse("11").is_ok_and(|m| m.elective()));
        assert!(AdmissionMethod::parse("21").is_ok_and(|m| !m.elective()));
        assert!(AdmissionMethod::parse("14").is_err());
        assert!(AdmissionSource::parse("19").is_ok());
        assert!(AdmissionSource::parse("20").is_err());
        assert!(DischargeMethod::parse("4").is_ok());
        assert!(DischargeMethod::parse("6").is_err());
        assert!(DischargeDestination::parse("19").is_ok());
        assert!(DischargeDestination::parse("").is_err());
        assert!(IntendedManagement::parse("2").is_ok());
        assert_eq!(
            AdmissionPurpose::parse("pre-operative"),
            Ok(AdmissionPurpose::PreOperative)
        );
        assert!(AdmissionPurpose::parse("surgery").is_err());
        assert_eq!(BedState::parse("cleaning"), Ok(BedState::Cleaning));
        assert!(BedState::parse("occupied").is_err());
    }
}
