//! Bookings from scheduling (`AppointmentBooked` naming a referral): an ACCEPTED referral
//! moves to BOOKED, as e-RS shows it once an appointment is made. A referral already BOOKED
//! (a reschedule, a redelivery) stays; one in any other state (cancelled meanwhile, say) is
//! left as it is and the refusal logged — retrying cannot change it. A cancelled or missed
//! appointment does not move the referral back: the rebooking worklist holds the patient and
//! a new booking names the same referral (ADR 30).
//!
//! A booking scheduling marks as the rebooking after a first-appointment DNA starts the
//! pathway's new clock on the day it was booked (`rebooked`, NHS_RULES: the patient's contact
//! date), once per appointment.
use crate::domain::{ClockFlags, EventKind, Ppid, ReferralId, ReferralState};
use crate::store::{self, NewClockEvent, StoreError, TransitionRequest};
use chrono::{NaiveDate, Utc};
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{HandlerError, InboundEvent};
use tessera_proto::scheduling;

pub const BOOKED: &str = "uk.nhs.tessera.scheduling.AppointmentBooked.v1";

pub async fn booked(txn: &DatabaseTransaction, event: &InboundEvent) -> Result<(), HandlerError> {
    let m = scheduling::v1::AppointmentBooked::decode(event.payload.as_slice())
        .map_err(|e| HandlerError::undecodable(BOOKED, e))?;
    move_referral(txn, event, &m).await?;
    if m.rebooking_after_first_dna {
        new_clock(txn, event, &m).await?;
    }
    Ok(())
}

async fn new_clock(
    txn: &DatabaseTransaction,
    event: &InboundEvent,
    m: &scheduling::v1::AppointmentBooked,
) -> Result<(), HandlerError> {
    let Ok(ppid) = Ppid::parse(&m.ppid, &m.ppid_issuer) else {
        tracing::warn!(event_id = %event.event_id, "rebooking names no valid PPID");
        return Ok(());
    };
    let Some(pathway) = store::pathway_id_by_ppid(txn, &ppid)
        .await
        .map_err(HandlerError::store)?
    else {
        return Ok(());
    };
    let on_date = NaiveDate::parse_from_str(&m.booked_on, "%Y-%m-%d")
        .unwrap_or_else(|_| Utc::now().date_naive());
    let kind = EventKind::parse("rebooked", ClockFlags::default())
        .map_err(|e| HandlerError::refused("event.clock-kind", e.to_string()))?;
    store::record_clock_event(
        txn,
        &event.tenant,
        NewClockEvent {
            pathway_id: pathway,
            on_date,
            kind,
            source: format!("scheduling:appointment:{}:rebooked", m.appointment_id),
        },
        event.trace.as_ref(),
    )
    .await
    .map_err(HandlerError::store)?;
    Ok(())
}

async fn move_referral(
    txn: &DatabaseTransaction,
    event: &InboundEvent,
    m: &scheduling::v1::AppointmentBooked,
) -> Result<(), HandlerError> {
    if m.referral_id.is_empty() {
        return Ok(());
    }
    let Some(id) = ReferralId::parse(&m.referral_id) else {
        tracing::warn!(event_id = %event.event_id, "booking names no valid referral id");
        return Ok(());
    };
    let current = match store::referral(txn, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            tracing::info!(event_id = %event.event_id, "booking for a referral this trust does not hold");
            return Ok(());
        }
        Err(e) => return Err(HandlerError::store(e)),
    };
    if current.state().ok() != Some(ReferralState::Accepted) {
        tracing::info!(event_id = %event.event_id, state = %current.state, "booked referral not ACCEPTED: left as it is");
        return Ok(());
    }
    let t = TransitionRequest {
        to: ReferralState::Booked,
        reason: None,
        team: None,
        clinician: None,
        clock_event: None,
        expected_version: Some(current.version),
        actor: "scheduling".into(),
    };
    let today = Utc::now().date_naive();
    match store::transition(txn, &event.tenant, id, t, today, event.trace.as_ref()).await {
        Ok(_) => Ok(()),
        Err(StoreError::Domain(e)) => {
            tracing::info!(event_id = %event.event_id, error = %e, "booking could not move the referral");
            Ok(())
        }
        Err(e) => Err(HandlerError::store(e)),
    }
}
