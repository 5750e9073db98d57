//! Wards and their beds as a trust sets them up: codes the trust chooses (what its HL7 feed
//! sends in PV1-3), a team whose members care for whoever is on the ward.
use super::{text, DomainError};

fn code(field: &'static str, s: &str) -> Result<String, DomainError> {
    let s = s.trim().to_ascii_uppercase();
    if (1..=20).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(s)
    } else {
        Err(DomainError::invalid(
            field,
            "format",
            "1 to 20 letters, digits, '-' or '_'",
        ))
    }
}

/// The trust's code for a ward (PV1-3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardCode(String);

impl WardCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        code("code", s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The trust's code for a bed, unique on its ward (PV1-3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedCode(String);

impl BedCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        code("beds", s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewBed {
    pub code: BedCode,
    pub bay: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewWard {
    pub code: WardCode,
    pub name: String,
    pub site: String,
    /// The workgroup caring for the ward's patients: it gains a relationship on admission.
    pub team: String,
    pub beds: Vec<NewBed>,
}

impl NewBed {
    pub fn parse(code: &str, bay: Option<&str>) -> Result<Self, DomainError> {
        Ok(Self {
            code: BedCode::parse(code)?,
            bay: bay.map(|b| text("beds", b, 40)).transpose()?,
        })
    }
}
