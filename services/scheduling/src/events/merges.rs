//! The MPI's merges and unmerges (docs/contracts/merge.md): a merged-away patient's
//! appointments follow the survivor, and come back on an unmerge.
use crate::store;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::mpi;

pub struct Merges;

impl Handler for Merges {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::v1::PatientMerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientMerged", e))?;
                    store::follow_merge(
                        txn,
                        &m.merge_id,
                        &m.merged_patient_id,
                        &m.survivor_patient_id,
                    )
                    .await
                    .map_err(HandlerError::store)
                }
                "uk.nhs.tessera.mpi.PatientUnmerged.v1" => {
                    let m = mpi::v1::PatientUnmerged::decode(event.payload.as_slice())
                        .map_err(|e| HandlerError::undecodable("PatientUnmerged", e))?;
                    store::undo_merge(txn, &m.merge_id, &m.merged_patient_id)
                        .await
                        .map_err(HandlerError::store)
                }
                _ => Ok(()),
            }
        })
    }
}
