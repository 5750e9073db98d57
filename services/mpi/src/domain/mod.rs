//! The MPI's domain: a patient and their demographics, parsed from what callers send.
//! No HTTP, no SQL, no Kafka here.

mod demographics;
mod input;
pub mod matching;
mod parse;

/// The parts of a request body, for adapters that build one (FHIR).
pub mod parse_inputs {
    pub use super::input::{AddressInput, ContactInput, LocalNumberInput, NameInput};
}

pub use demographics::{
    Address, ContactPoint, Demographics, HumanName, LocalNumber, Patient, PatientId, Replaced,
};
pub use input::DemographicsInput;
pub use parse::FieldError;
