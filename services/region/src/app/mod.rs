//! The regional record's use cases: what each endpoint does, once — the handlers in `api/`
//! only parse and answer. The summary ([`summary`]) reads the viewer's trust in the request's
//! audited transaction and every other trust in a transaction of that trust's own, which
//! leaves that trust's audit record; the matcher's proposals ([`reviews`]).
pub mod content;
pub mod reviews;
pub mod summary;
pub mod viewer;

use crate::store::StoreError;
use tessera_edge::problem::ApiError;

pub use tessera_edge::gate::{audited, listed, refuse, Fail, Work};

pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(tessera_edge::codes::NOT_FOUND, "no such record"),
        StoreError::Conflict(code, detail) => ApiError::new(code, detail),
        StoreError::Db(e) => ApiError::database(&e),
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::from(store_error(e))
    }
}

/// The viewer's patient must be one of their trust's, and live: an id the trust does not
/// have is 404 (whoever's it is, nothing of it is said), one registered a moment ago 503
/// (retry), a merged one 409 naming the survivor.
pub async fn known(
    txn: &sea_orm::DatabaseTransaction,
    patient: &tessera_patients::PatientId,
) -> Result<(), Fail> {
    match tessera_patients::require_known(txn, patient.as_uuid(), chrono::Utc::now()).await {
        Ok(()) => Ok(()),
        Err(tessera_patients::Refused::Unknown) => Err(Fail {
            error: ApiError::new(
                tessera_edge::codes::NOT_FOUND,
                "no patient with this id in your trust's index",
            ),
            patient_id: Some(patient.to_string()),
        }),
        Err(r) => Err(Fail {
            error: r.into(),
            patient_id: Some(patient.to_string()),
        }),
    }
}
