//! The trust's old PAS, through the MPI's feed (`mpi.adt`, ADR 33): each forwarded ADT
//! encounter message applied as the API would apply it — admission, transfer, discharge,
//! cancellation — in message order per patient (the topic is keyed by patient), once (the
//! inbox; an admission also carries `hl7:<sender>:<MSH-10>` as its idempotency key). A
//! message that cannot be applied (an unknown ward, an occupied bed, a time out of order, no
//! such spell) changes nothing and goes on the ADT exception list for a person to put right;
//! only a failure of the database itself is retried.
use crate::app::spells::{admit_in, cancel_in, discharge_in, leave_in, transfer_in};
use crate::domain::adt::{AdtAction, AdtMessage};
use crate::domain::DomainError;
use crate::store::adt::{self, NewException};
use crate::store::events::Publish;
use crate::store::{Admission, Change, Destination, Discharge, StoreError};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::mpi::v1::AdtForwarded;

const FORWARDED: &str = "uk.nhs.tessera.mpi.AdtForwarded.v1";

pub struct Adt {
    /// `beds.clean_after_discharge`.
    pub clean: bool,
}

/// Why a message was not applied: its stable code and what to tell a person.
fn reason(e: &StoreError) -> Option<(String, String)> {
    match e {
        StoreError::Conflict(code, detail) => Some((code.code().to_string(), detail.clone())),
        StoreError::Domain(DomainError::Invalid { field, message, .. }) => {
            Some(("validation".into(), format!("{field}: {message}")))
        }
        StoreError::NotFound => Some((
            "not-found".into(),
            "no spell for this visit number (or open for this patient)".into(),
        )),
        StoreError::Patient(r) => Some(("patient.unknown".into(), r.to_string())),
        StoreError::Db(_) | StoreError::Outbox(_) => None,
    }
}

async fn apply(
    txn: &DatabaseTransaction,
    p: &Publish,
    f: &AdtForwarded,
    m: AdtMessage,
    clean: bool,
) -> Result<(), StoreError> {
    let by = format!("hl7:{}", f.sender);
    let at = adt::instant(txn, &m.when).await?;
    let change = Change { at, by: by.clone() };
    let visit = m.visit.as_deref();
    match m.action {
        AdtAction::Admit(a) => {
            let (ward, bed) = adt::locate(txn, &a.location).await?;
            let patient = tessera_patients::PatientId::parse(&f.patient_id).ok_or_else(|| {
                DomainError::invalid("patient_id", "format", "the MPI named no patient id")
            })?;
            let admission = Admission {
                patient,
                ward: Some(ward),
                bed,
                method: a.method,
                source: a.source,
                management: a.management,
                purpose: None,
                consultant: a.consultant,
                treatment_function: a.treatment_function,
                referral: None,
                ppid: None,
                commissioner: None,
                at,
                by,
                key: Some(format!("hl7:{}:{}", f.sender, f.control_id)),
                waiting_list_entry: None,
                visit: m.visit.clone(),
            };
            admit_in(txn, p, &admission).await.map(|_| ())
        }
        AdtAction::Transfer(to) => {
            let spell = adt::spell_for(txn, visit, &f.patient_id, false).await?;
            let (ward, bed) = adt::locate(txn, &to).await?;
            let to = bed.map_or(Destination::Ward(ward), Destination::Bed);
            transfer_in(txn, p, spell, to, &change).await.map(|_| ())
        }
        AdtAction::Discharge(method, destination) => {
            let spell = adt::spell_for(txn, visit, &f.patient_id, false).await?;
            let d = Discharge {
                method,
                destination,
                clean,
            };
            discharge_in(txn, p, spell, &d, &change).await.map(|_| ())
        }
        AdtAction::Cancel(kind) => {
            let spell = adt::spell_for(txn, visit, &f.patient_id, kind == "discharge").await?;
            let why = format!("cancelled by the sending PAS ({})", m.trigger);
            cancel_in(txn, p, spell, Some(kind), &change.by, &why)
                .await
                .map(|_| ())
        }
        AdtAction::Leave(going) => {
            let spell = adt::spell_for(txn, visit, &f.patient_id, false).await?;
            leave_in(txn, spell, going, &change).await.map(|_| ())
        }
        AdtAction::Noted => Ok(()),
    }
}

impl Handler for Adt {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.ce_type != FORWARDED {
                return Ok(());
            }
            let f = AdtForwarded::decode(event.payload.as_slice())
                .map_err(|e| HandlerError::undecodable("AdtForwarded", e))?;
            let p = Publish {
                tenant: event.tenant.clone(),
                trace: event.trace.clone(),
            };
            // The message applies within a savepoint: what fails leaves nothing behind but
            // its exception.
            let read = AdtMessage::read(&f.er7);
            let visit = read.as_ref().ok().and_then(|m| m.visit.clone());
            let failed = match read {
                Err(e) => reason(&StoreError::Domain(e)),
                Ok(m) => {
                    let sp = txn.begin().await.map_err(HandlerError::store)?;
                    match apply(&sp, &p, &f, m, self.clean).await {
                        Ok(()) => {
                            sp.commit().await.map_err(HandlerError::store)?;
                            None
                        }
                        Err(e) => {
                            sp.rollback().await.map_err(HandlerError::store)?;
                            Some(reason(&e).ok_or_else(|| HandlerError::store(e))?)
                        }
                    }
                }
            };
            if let Some((code, detail)) = failed {
                tracing::warn!(trigger = %f.trigger, control_id = %f.control_id, %code, "ADT message not applied: on the exception list");
                adt::record_exception(
                    txn,
                    &NewException {
                        sender: &f.sender,
                        control_id: &f.control_id,
                        trigger: &f.trigger,
                        patient_id: &f.patient_id,
                        visit: visit.as_deref(),
                        code: &code,
                        detail: &detail,
                        er7: &f.er7,
                    },
                )
                .await
                .map_err(HandlerError::store)?;
            }
            Ok(())
        })
    }
}
