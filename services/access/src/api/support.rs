//! What every handler here shares: the gate over this service's state, and reading ids.
use super::AppState;
use crate::app::invalid;
use tessera_edge::problem::ApiError;
use tessera_patients::PatientId;

pub type Caller = tessera_edge::gate::Caller<AppState>;
pub type Authorized = tessera_edge::gate::Authorized<AppState>;

/// A patient id as the MPI issues them: a UUID.
pub fn patient_id(s: &str) -> Result<PatientId, ApiError> {
    PatientId::parse(s).ok_or_else(|| invalid("patient_id", "format", "a patient id (UUID)"))
}

/// A user id or team code: 1–64 printable characters without spaces.
pub fn code(field: &str, s: &str) -> Result<String, ApiError> {
    crate::domain::code(field, s).map_err(|e| ApiError::validation(vec![e]))
}
