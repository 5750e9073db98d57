//! Parsed domain types, no I/O: the Data Dictionary's codes for admissions and discharges
//! ([`codes`]), an HL7 v2 ADT encounter message ([`adt`]), clinical coding formats ([`coding`]), wards and beds ([`ward`]), and this
//! service's typed ids. Parsing happens once at the edge; everything behind it holds these.
pub mod adt;
mod codes;
mod coding;
mod ward;

pub use codes::{
    AdmissionMethod, AdmissionPurpose, AdmissionSource, BedState, DischargeDestination,
    DischargeMethod, IntendedManagement,
};
pub use coding::{Icd10, Opcs4};
pub use ward::{BedCode, NewBed, NewWard, WardCode};

tessera_edge::uuid_id!(
    /// A ward.
    WardId
);
tessera_edge::uuid_id!(
    /// A bed on a ward.
    BedId
);
tessera_edge::uuid_id!(
    /// A hospital provider spell (an admission to its discharge): the FHIR `Encounter`.
    SpellId
);
tessera_edge::uuid_id!(
    /// An activity record.
    ActivityId
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            code,
            message: message.into(),
        }
    }
}

/// `s` trimmed, 1 to `max` characters.
pub fn text(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        Err(DomainError::invalid(
            field,
            "length",
            format!("1 to {max} characters"),
        ))
    } else {
        Ok(s.to_string())
    }
}

/// A treatment function or specialty code: three digits.
pub fn three_digits(field: &'static str, s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid(field, "format", "a 3-digit code"))
    }
}
