//! What the clinical documentation service consumes, beside the MPI's patients
//! (`tessera_patients`) and the access projection: the MPI's patient events for what letters
//! need ([`patients`]) and its merges and unmerges, which documents follow ([`merges`]);
//! scheduling's outcomes, which draft clinic letters ([`outcomes`]); PAS's encounters, whose
//! discharges draft discharge summaries ([`discharges`]).
mod discharges;
mod merges;
mod outcomes;
mod patients;

use crate::store::events::Publish;
use crate::store::{Document, StoreError};
use sea_orm::DatabaseTransaction;
use std::sync::Arc;
use tessera_events::{ConsumerSpec, Handler, HandlerError, InboundEvent};

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> Vec<(&'static str, ConsumerSpec, Arc<dyn Handler>)> {
    let spec = |purpose: &str, service: &str, stream: &str| ConsumerSpec {
        group: format!("{prefix}.{purpose}"),
        service: service.into(),
        stream: stream.into(),
        max_attempts: 10,
        only: only.clone(),
    };
    vec![
        (
            "merge-follower",
            spec("merges", "mpi", "patient"),
            Arc::new(tessera_patients::repoint::MergeFollower(merges::Merges)),
        ),
        (
            "letter-details",
            spec("letter-details", "mpi", "patient"),
            Arc::new(patients::Patients),
        ),
        (
            "clinic-letters",
            spec("clinic-letters", "scheduling", "appointment"),
            Arc::new(outcomes::Outcomes),
        ),
        (
            "discharge-summaries",
            spec("discharge-summaries", "pas", "encounter"),
            Arc::new(discharges::Discharges),
        ),
    ]
}

/// The trust an event came from, and where its consequences are published.
struct Trust(Publish);

impl Trust {
    fn of(event: &InboundEvent) -> Self {
        Self(Publish {
            tenant: event.tenant.clone(),
            trace: event.trace.clone(),
        })
    }

    fn ods(&self) -> &str {
        self.0.tenant.as_str()
    }
}

/// The patient and record ids an event names, or a refusal naming which is wrong.
fn ids(
    patient: &str,
    record: &str,
) -> Result<(tessera_patients::PatientId, uuid::Uuid), HandlerError> {
    let p = tessera_patients::PatientId::parse(patient)
        .ok_or_else(|| HandlerError::refused("event.invalid-id", "patient_id is not a UUID"))?;
    let r = uuid::Uuid::parse_str(record)
        .map_err(|_| HandlerError::refused("event.invalid-id", "the record id is not a UUID"))?;
    Ok((p, r))
}

/// A drafted letter announced; none (already drafted) is fine; a patient not known yet is
/// retried (the MPI's event is on its way), one the trust does not have is refused.
async fn drafted(
    txn: &DatabaseTransaction,
    t: &Trust,
    made: Result<Option<Document>, StoreError>,
) -> Result<(), HandlerError> {
    match made {
        Ok(Some(doc)) => t.0.created(txn, &doc).await.map_err(HandlerError::store),
        Ok(None) => Ok(()),
        Err(StoreError::Patient(tessera_patients::Refused::Unknown)) => Err(HandlerError::refused(
            "patient.unknown",
            "no patient with this id in the trust's index",
        )),
        Err(e) => Err(HandlerError::store(e)),
    }
}
