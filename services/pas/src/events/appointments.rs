//! Scheduling's appointment closures (`AppointmentClosed`): each kept once as the
//! appointment's attendance; an attended one (5 or 6) becomes one outpatient activity
//! record (CDS 020-style), in the transaction that records the message in the inbox — so a
//! redelivery changes nothing and a crash loses nothing.
use crate::store::activity;
use crate::store::attendances::{self, Seen};
use crate::store::events::{self, Publish};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::scheduling::v1 as pb;
use uuid::Uuid;

const CLOSED: &str = "uk.nhs.tessera.scheduling.AppointmentClosed.v1";

pub struct Appointments;

fn parse(payload: &[u8]) -> Result<Seen, HandlerError> {
    let m = pb::AppointmentClosed::decode(payload)
        .map_err(|e| HandlerError::undecodable("AppointmentClosed", e))?;
    let appointment_id = Uuid::parse_str(&m.appointment_id).map_err(|_| {
        HandlerError::refused(
            "event.appointment-id",
            format!("{:?} is not an appointment id", m.appointment_id),
        )
    })?;
    let on_date = NaiveDate::parse_from_str(&m.appointment_date, "%Y-%m-%d").map_err(|_| {
        HandlerError::refused(
            "event.appointment-date",
            format!("{:?} is not a date", m.appointment_date),
        )
    })?;
    Ok(Seen {
        appointment_id,
        patient_id: m.patient_id,
        attendance_code: m.attendance,
        first: m.slot_type != "follow-up",
        treatment_function: m.treatment_function,
        clinician: m.clinician_user_id,
        on_date,
        ppid: (!m.ppid.is_empty()).then_some((m.ppid, m.ppid_issuer)),
    })
}

impl Handler for Appointments {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.ce_type != CLOSED {
                return Ok(());
            }
            let seen = parse(&event.payload)?;
            if !attendances::seen(txn, &seen)
                .await
                .map_err(HandlerError::store)?
            {
                return Ok(());
            }
            let p = Publish {
                tenant: event.tenant.clone(),
                trace: event.trace.clone(),
            };
            if let Some(a) = activity::record_outpatient(txn, seen.appointment_id)
                .await
                .map_err(HandlerError::store)?
            {
                events::recorded(txn, &p, &a)
                    .await
                    .map_err(HandlerError::store)?;
            }
            Ok(())
        })
    }
}
