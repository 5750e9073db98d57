//! Scheduling's outcomes (`scheduling.appointment`, `AppointmentClosed`): an attended
//! outpatient appointment (attendance 5 or 6) with a clinician gets a draft clinic letter in
//! the trust's wording, addressed to the patient's GP practice, for that clinician to
//! complete and sign — once per appointment, in the transaction that records the message.
use super::{drafted, Trust};
use crate::domain::document::ContextKind;
use crate::domain::Context;
use crate::store::letters::{self, Draft};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use std::collections::BTreeMap;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::scheduling::v1 as pb;

const CLOSED: &str = "uk.nhs.tessera.scheduling.AppointmentClosed.v1";

pub struct Outcomes;

impl Handler for Outcomes {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.ce_type != CLOSED {
                return Ok(());
            }
            let m = pb::AppointmentClosed::decode(event.payload.as_slice())
                .map_err(|e| HandlerError::undecodable("AppointmentClosed", e))?;
            let attended = m.attendance == "5" || m.attendance == "6";
            if !attended || m.clinician_user_id.is_empty() {
                return Ok(());
            }
            let (patient, appointment) = super::ids(&m.patient_id, &m.appointment_id)?;
            let values = BTreeMap::from([
                ("treatment_function", m.treatment_function.clone()),
                ("date", m.appointment_date.clone()),
                (
                    "outcome",
                    if m.outcome.is_empty() {
                        "seen".into()
                    } else {
                        m.outcome.clone()
                    },
                ),
                ("clinician", m.clinician_user_id.clone()),
            ]);
            let draft = Draft {
                kind: "clinic-letter",
                doc_type: ("371531000", "Report of clinical encounter"),
                patient_id: patient,
                context: Context {
                    kind: ContextKind::Appointment,
                    id: appointment,
                },
                author: m.clinician_user_id,
                source: format!("outcome:{appointment}"),
                values,
            };
            let t = Trust::of(event);
            let made = letters::draft(txn, t.ods(), draft, chrono::Utc::now()).await;
            drafted(txn, &t, made).await
        })
    }
}
