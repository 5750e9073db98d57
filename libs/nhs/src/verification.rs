use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// NHS number verification status (UKCore-NHSNumberVerificationStatus, codes 01–08).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationStatus {
    /// 01 number present and verified
    PresentVerified,
    /// 02 number present but not traced
    PresentNotTraced,
    /// 03 trace required
    TraceRequired,
    /// 04 trace attempted, no match or multiple match
    TraceAttemptedNoMatch,
    /// 05 trace needs to be resolved
    TraceNeedsResolution,
    /// 06 trace in progress
    TraceInProgress,
    /// 07 number not present and trace not required
    NotPresentTraceNotRequired,
    /// 08 trace postponed (baby under six weeks old)
    TracePostponed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NHS number verification status is a code 01 to 08")]
pub struct VerificationStatusError;

const ALL: [VerificationStatus; 8] = [
    VerificationStatus::PresentVerified,
    VerificationStatus::PresentNotTraced,
    VerificationStatus::TraceRequired,
    VerificationStatus::TraceAttemptedNoMatch,
    VerificationStatus::TraceNeedsResolution,
    VerificationStatus::TraceInProgress,
    VerificationStatus::NotPresentTraceNotRequired,
    VerificationStatus::TracePostponed,
];

impl VerificationStatus {
    pub const SYSTEM: &'static str =
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
    pub const EXTENSION: &'static str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";

    /// Accepts `01`…`08`, and the HL7 v2 PID-32 form `NSTS01`…`NSTS08`.
    pub fn parse(input: &str) -> Result<Self, VerificationStatusError> {
        let code = input.trim();
        let code = code.strip_prefix("NSTS").unwrap_or(code);
        ALL.iter()
            .copied()
            .find(|s| s.code() == code)
            .ok_or(VerificationStatusError)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::PresentVerified => "01",
            Self::PresentNotTraced => "02",
            Self::TraceRequired => "03",
            Self::TraceAttemptedNoMatch => "04",
            Self::TraceNeedsResolution => "05",
            Self::TraceInProgress => "06",
            Self::NotPresentTraceNotRequired => "07",
            Self::TracePostponed => "08",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Self::PresentVerified => "Number present and verified",
            Self::PresentNotTraced => "Number present but not traced",
            Self::TraceRequired => "Trace required",
            Self::TraceAttemptedNoMatch => "Trace attempted - No match or multiple match found",
            Self::TraceNeedsResolution => {
                "Trace needs to be resolved - (NHS number or patient detail conflict)"
            }
            Self::TraceInProgress => "Trace in progress",
            Self::NotPresentTraceNotRequired => "Number not present and trace not required",
            Self::TracePostponed => "Trace postponed (baby under six weeks old)",
        }
    }
}

impl Serialize for VerificationStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for VerificationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_eight_codes_and_the_pid_32_form_parse() {
        for (i, s) in ALL.iter().enumerate() {
            let code = format!("{:02}", i + 1);
            assert_eq!(VerificationStatus::parse(&code), Ok(*s));
            assert_eq!(VerificationStatus::parse(&format!("NSTS{code}")), Ok(*s));
        }
        assert!(VerificationStatus::parse("09").is_err());
        assert!(VerificationStatus::parse("1").is_err());
    }
}
