//! What the decisions for one request need, as the projection (`tessera_access::projection`,
//! the adapter that reads it from the database) hands it over: plain data, no I/O.
use crate::decision::{BreakGlass, Relationship, Seal, SharingConsent};
use std::collections::HashMap;

/// What one patient's decision needs, for one caller.
#[derive(Debug, Clone, Default)]
pub struct PatientAccess {
    /// The caller's relationships with the patient (their own and their teams'), live or not.
    pub relationships: Vec<Relationship>,
    pub break_glass: Option<BreakGlass>,
    /// Seals by item (`contact`, `document:<id>`, ...).
    pub seals: HashMap<String, Seal>,
    pub consent: SharingConsent,
}

impl PatientAccess {
    pub fn seal(&self, item: &str) -> &Seal {
        const NONE: &Seal = &Seal::None;
        self.seals.get(item).unwrap_or(NONE)
    }
}

/// The projection as one caller sees it, for a set of patients.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub patients: HashMap<String, PatientAccess>,
    /// Teams the access service lists the caller in.
    pub teams: Vec<String>,
    /// Milliseconds since the newest access event the projection applied; `None` before the
    /// first.
    pub age_ms: Option<i64>,
}

impl View {
    pub fn patient(&self, id: &str) -> PatientAccess {
        self.patients.get(id).cloned().unwrap_or_default()
    }
}
