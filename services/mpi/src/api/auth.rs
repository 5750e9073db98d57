//! Who is calling, and the audit record every patient-data request leaves: the shared gate
//! (`tessera_edge::gate`) over the MPI's state.
use super::AppState;

pub use tessera_edge::gate::Ending;

pub type Caller = tessera_edge::gate::Caller<AppState>;
pub type Authorized = tessera_edge::gate::Authorized<AppState>;
