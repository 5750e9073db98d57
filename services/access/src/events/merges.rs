//! The MPI's merges (`mpi.patient`), by docs/contracts/merge.md: a merge gives the survivor
//! copies of the merged record's live relationships and seals (source `merge:<id>`); an
//! unmerge ends and removes exactly those copies.
use crate::store;
use chrono::Utc;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_patients::PatientId;
use tessera_proto::mpi;

/// A patient id the MPI's event names: a UUID, or the event breaks the contract.
fn patient(s: &str) -> Result<PatientId, HandlerError> {
    PatientId::parse(s).ok_or_else(|| {
        HandlerError::refused(
            "event.invalid-id",
            "a merge names a patient id that is no UUID",
        )
    })
}

/// Follows the MPI's merges so that access follows the patient.
pub struct Merges;

impl Handler for Merges {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let trace = event.trace.as_ref();
            let now = Utc::now();
            match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::v1::PatientMerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientMerged", e))?;
                    store::follow_merge(
                        txn,
                        &event.tenant,
                        &m.merge_id,
                        &patient(&m.merged_patient_id)?,
                        &patient(&m.survivor_patient_id)?,
                        now,
                        trace,
                    )
                    .await
                    .map_err(HandlerError::store)
                }
                "uk.nhs.tessera.mpi.PatientUnmerged.v1" => {
                    let m = mpi::v1::PatientUnmerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientUnmerged", e))?;
                    store::undo_merge(
                        txn,
                        &event.tenant,
                        &m.merge_id,
                        &patient(&m.survivor_patient_id)?,
                        now,
                        trace,
                    )
                    .await
                    .map_err(HandlerError::store)
                }
                _ => Ok(()),
            }
        })
    }
}
