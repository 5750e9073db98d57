//! What a letter needs of a patient, from the MPI's patient events (`mpi.patient`): the NHS
//! number and the registered GP practice, the newest version kept. A restricted patient's
//! practice is never published, so their letters go to no practice.
use crate::store::letters::{self, Detail};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::mpi::v1 as mpi;

pub struct Patients;

fn detail(d: Option<&mpi::Demographics>) -> Detail {
    d.map(|d| Detail {
        nhs_number: d.nhs_number.clone(),
        gp_practice: if d.restricted {
            String::new()
        } else {
            d.general_practice.clone()
        },
    })
    .unwrap_or_default()
}

impl Handler for Patients {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let payload = event.payload.as_slice();
            let undecodable = |e| HandlerError::undecodable(event.ce_type.as_str(), e);
            let (patient, d, version) = match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientRegistered.v1" => {
                    let p = mpi::PatientRegistered::decode(payload).map_err(undecodable)?;
                    (p.patient_id, detail(p.demographics.as_ref()), p.version)
                }
                "uk.nhs.tessera.mpi.PatientUpdated.v1" => {
                    let p = mpi::PatientUpdated::decode(payload).map_err(undecodable)?;
                    (p.patient_id, detail(p.demographics.as_ref()), p.version)
                }
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::PatientMerged::decode(payload).map_err(undecodable)?;
                    let d = detail(m.survivor_demographics.as_ref());
                    (m.survivor_patient_id, d, m.survivor_version)
                }
                _ => return Ok(()),
            };
            letters::set_detail(txn, &patient, &d, version)
                .await
                .map_err(HandlerError::store)
        })
    }
}
