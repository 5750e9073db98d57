//! NHS domain types. Each type has a private field and one way in (`parse`), so a value that
//! exists is a value that is valid. Patient-identifying values print as `***` in `Debug`.
//!
//! This crate owns no I/O and must never log.

mod masked;
mod nhs_number;
mod ods;
mod postcode;
mod ppid;
mod schema;
mod sex;
mod snomed;
mod verification;

pub use masked::Masked;
pub use nhs_number::{NhsNumber, NhsNumberError};
pub use ods::{OdsCode, OdsCodeError};
pub use postcode::{Postcode, PostcodeError};
pub use ppid::{parse_ppid, parse_ppid_fields, PpidError};
pub use sex::{AdministrativeSex, AdministrativeSexError};
pub use snomed::{ConceptId, ConceptIdError};
pub use verification::{VerificationStatus, VerificationStatusError};
