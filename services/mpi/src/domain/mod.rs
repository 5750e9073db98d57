//! The MPI's domain: a patient and their demographics, parsed from what callers send.
//! No HTTP, no SQL, no Kafka here.

mod demographics;
mod parse;

/// The parts of a request body, for adapters that build one (FHIR).
pub mod parse_inputs {
    pub use super::parse::{AddressInput, ContactInput, LocalNumberInput, NameInput};
}

pub use demographics::{
    Address, ContactPoint, Demographics, HumanName, LocalNumber, Patient, PatientId, Replaced,
};
pub use parse::{DemographicsInput, FieldError};
