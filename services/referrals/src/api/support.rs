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

pub fn uuid(field: &str, s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s.trim()).map_err(|_| invalid(field, "format", "an id (UUID)"))
}
