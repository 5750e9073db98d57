//! The referrals service's referrals, as far as booking needs them: what was referred
//! (`ReferralReceived`) and where its lifecycle is (`ReferralStateChanged`). Keyed by
//! patient, so a referral's messages arrive in order; a state change for a referral whose
//! receipt was never seen (this consumer started after it) is kept with what it carries.
use crate::store::{self, ReferralSeen};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::referrals::v1 as pb;
use uuid::Uuid;

const RECEIVED: &str = "uk.nhs.tessera.referrals.ReferralReceived.v1";
const CHANGED: &str = "uk.nhs.tessera.referrals.ReferralStateChanged.v1";

pub struct Referrals;

fn seen(ce_type: &str, payload: &[u8]) -> Result<Option<ReferralSeen>, HandlerError> {
    let bad = |e: prost::DecodeError| HandlerError::undecodable(ce_type, e);
    let id = |s: &str| {
        Uuid::parse_str(s).map_err(|_| {
            HandlerError::refused("event.referral-id", format!("{s:?} is not a referral id"))
        })
    };
    Ok(Some(match ce_type {
        RECEIVED => {
            let m = pb::ReferralReceived::decode(payload).map_err(bad)?;
            ReferralSeen {
                referral_id: id(&m.referral_id)?,
                patient_id: m.patient_id,
                state: m.state,
                received: Some(store::Received {
                    priority: m.priority,
                    specialty: m.specialty,
                    treatment_function: m.treatment_function,
                    team: m.receiving_team,
                    ppid: m.ppid,
                    ppid_issuer: m.ppid_issuer,
                    received_on: m.received_on,
                    ubrn: m.ubrn,
                }),
            }
        }
        CHANGED => {
            let m = pb::ReferralStateChanged::decode(payload).map_err(bad)?;
            ReferralSeen {
                referral_id: id(&m.referral_id)?,
                patient_id: m.patient_id,
                state: m.to_state,
                received: None,
            }
        }
        _ => return Ok(None),
    }))
}

impl Handler for Referrals {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let s = match seen(&event.ce_type, &event.payload) {
                Ok(Some(s)) => s,
                Ok(None) => return Ok(()),
                Err(e) => {
                    // A producer's contract breach is not fixed by retrying.
                    tracing::warn!(event_id = %event.event_id, ce_type = %event.ce_type, error = %e,
                        "referral event refused");
                    return Ok(());
                }
            };
            store::referral_seen(txn, &s)
                .await
                .map_err(HandlerError::store)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_carries_what_booking_needs_and_a_change_its_state() {
        let r = pb::ReferralReceived {
            referral_id: Uuid::nil().to_string(),
            patient_id: "p".into(),
            priority: "urgent".into(),
            treatment_function: "100".into(),
            received_on: "2026-12-01".into(),
            state: "AWAITING_TRIAGE".into(),
            ..Default::default()
        };
        let s = seen(RECEIVED, &r.encode_to_vec()).unwrap().unwrap();
        assert_eq!(s.state, "AWAITING_TRIAGE");
        assert_eq!(s.received.unwrap().treatment_function, "100");
        let c = pb::ReferralStateChanged {
            referral_id: Uuid::nil().to_string(),
            patient_id: "p".into(),
            to_state: "ACCEPTED".into(),
            ..Default::default()
        };
        let s = seen(CHANGED, &c.encode_to_vec()).unwrap().unwrap();
        assert_eq!((s.state.as_str(), s.received.is_none()), ("ACCEPTED", true));
        assert!(seen("uk.nhs.tessera.referrals.ReferralAccepted.v1", &[])
            .unwrap()
            .is_none());
        let bad = pb::ReferralStateChanged {
            referral_id: "x".into(),
            ..Default::default()
        };
        assert_eq!(
            seen(CHANGED, &bad.encode_to_vec()).unwrap_err().code(),
            "event.referral-id"
        );
    }
}
