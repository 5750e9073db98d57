//! Care events that create and end legitimate relationships: a referral accepted by a team
//! (`referrals.referral`), an admission to a ward (`pas.encounter`), an appointment with a
//! clinician (`scheduling.appointment`). A closure ends what its opening created, after the
//! trust's grace period for that origin.
use crate::store::{self, NewRelationship};
use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_patients::PatientId;
use tessera_proto::{pas, referrals, scheduling};

/// One care event, as the relationships it touches see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Open {
        origin: &'static str,
        source: String,
        patient_id: String,
        users: Vec<String>,
        teams: Vec<String>,
        at: DateTime<Utc>,
    },
    Close {
        origin: &'static str,
        source: String,
        at: DateTime<Utc>,
        reason: String,
    },
}

fn when(s: &str, fallback: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(fallback)
}

fn some(s: &str) -> Vec<String> {
    if s.trim().is_empty() {
        Vec::new()
    } else {
        vec![s.trim().to_string()]
    }
}

/// What a care event means for relationships; `None` for event types that mean nothing here.
pub fn trigger(
    ce_type: &str,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Trigger>, HandlerError> {
    let bad = |e: prost::DecodeError| HandlerError::undecodable(ce_type, e);
    Ok(Some(match ce_type {
        "uk.nhs.tessera.referrals.ReferralAccepted.v1" => {
            let m = referrals::v1::ReferralAccepted::decode(payload).map_err(bad)?;
            Trigger::Open {
                origin: "referral",
                source: format!("referral:{}", m.referral_id),
                patient_id: m.patient_id,
                users: some(&m.clinician_user_id),
                teams: some(&m.team),
                at: when(&m.accepted_at, now),
            }
        }
        "uk.nhs.tessera.referrals.ReferralClosed.v1" => {
            let m = referrals::v1::ReferralClosed::decode(payload).map_err(bad)?;
            Trigger::Close {
                origin: "referral",
                source: format!("referral:{}", m.referral_id),
                at: when(&m.closed_at, now),
                reason: format!("referral closed: {}", m.reason),
            }
        }
        "uk.nhs.tessera.pas.PatientAdmitted.v1" => {
            let m = pas::v1::PatientAdmitted::decode(payload).map_err(bad)?;
            Trigger::Open {
                origin: "admission",
                source: format!("encounter:{}", m.encounter_id),
                patient_id: m.patient_id,
                users: some(&m.consultant_user_id),
                teams: some(&m.ward_team),
                at: when(&m.admitted_at, now),
            }
        }
        "uk.nhs.tessera.pas.PatientDischarged.v1" => {
            let m = pas::v1::PatientDischarged::decode(payload).map_err(bad)?;
            Trigger::Close {
                origin: "admission",
                source: format!("encounter:{}", m.encounter_id),
                at: when(&m.discharged_at, now),
                reason: "discharged".into(),
            }
        }
        "uk.nhs.tessera.pas.PatientTransferred.v1" => {
            let m = pas::v1::PatientTransferred::decode(payload).map_err(bad)?;
            Trigger::Open {
                origin: "admission",
                source: format!("encounter:{}", m.encounter_id),
                patient_id: m.patient_id,
                users: Vec::new(),
                teams: some(&m.ward_team),
                at: when(&m.transferred_at, now),
            }
        }
        // A cancelled admission (A11) ends what it opened, as a discharge would; other
        // cancellations leave the relationships as they stand.
        "uk.nhs.tessera.pas.EncounterActionCancelled.v1" => {
            let m = pas::v1::EncounterActionCancelled::decode(payload).map_err(bad)?;
            if m.cancelled != "admission" {
                return Ok(None);
            }
            Trigger::Close {
                origin: "admission",
                source: format!("encounter:{}", m.encounter_id),
                at: when(&m.cancelled_at, now),
                reason: format!("admission cancelled: {}", m.reason),
            }
        }
        "uk.nhs.tessera.scheduling.AppointmentBooked.v1" => {
            let m = scheduling::v1::AppointmentBooked::decode(payload).map_err(bad)?;
            Trigger::Open {
                origin: "appointment",
                source: format!("appointment:{}", m.appointment_id),
                patient_id: m.patient_id,
                users: some(&m.clinician_user_id),
                teams: some(&m.team),
                // From booking: the clinician prepares before the patient arrives.
                at: now.min(when(&m.starts_at, now)),
            }
        }
        "uk.nhs.tessera.scheduling.AppointmentClosed.v1" => {
            let m = scheduling::v1::AppointmentClosed::decode(payload).map_err(bad)?;
            Trigger::Close {
                origin: "appointment",
                source: format!("appointment:{}", m.appointment_id),
                at: when(&m.closed_at, now),
                reason: format!("appointment {}", m.outcome),
            }
        }
        _ => return Ok(None),
    }))
}

pub struct CareEvents {
    pub default_grace_days: i64,
}

impl Handler for CareEvents {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let t = trigger(&event.ce_type, &event.payload, Utc::now())?;
            let trace = event.trace.as_ref();
            match t {
                None => Ok(()),
                Some(Trigger::Open {
                    origin,
                    source,
                    patient_id,
                    users,
                    teams,
                    at,
                }) => {
                    let Some(patient_id) = PatientId::parse(&patient_id) else {
                        return Err(HandlerError::refused(
                            "event.no-patient",
                            "care event names no patient (a patient id)",
                        ));
                    };
                    let holders = users
                        .into_iter()
                        .map(|u| (Some(u), None))
                        .chain(teams.into_iter().map(|t| (None, Some(t))));
                    for (user_id, team) in holders {
                        store::grant_relationship(
                            txn,
                            &event.tenant,
                            NewRelationship {
                                patient_id,
                                user_id,
                                team,
                                starts_at: at,
                                ends_at: None,
                                origin,
                                reason_code: None,
                                justification: None,
                                source: Some(source.clone()),
                                created_by: "system".into(),
                            },
                            trace,
                        )
                        .await
                        .map_err(HandlerError::store)?;
                    }
                    Ok(())
                }
                Some(Trigger::Close {
                    origin,
                    source,
                    at,
                    reason,
                }) => {
                    let days = store::grace_days(txn, origin, self.default_grace_days)
                        .await
                        .map_err(HandlerError::store)?;
                    store::end_by_source(
                        txn,
                        &event.tenant,
                        &source,
                        at + Duration::days(days),
                        &reason,
                        trace,
                    )
                    .await
                    .map(|_| ())
                    .map_err(HandlerError::store)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn care_events_open_and_close_relationships() {
        let now = Utc::now();
        let accepted = referrals::v1::ReferralAccepted {
            referral_id: "r1".into(),
            patient_id: "p1".into(),
            team: "cardiology".into(),
            clinician_user_id: String::new(),
            accepted_at: "2026-11-01T09:00:00Z".into(),
        }
        .encode_to_vec();
        let t = trigger(
            "uk.nhs.tessera.referrals.ReferralAccepted.v1",
            &accepted,
            now,
        )
        .unwrap();
        assert_eq!(
            t,
            Some(Trigger::Open {
                origin: "referral",
                source: "referral:r1".into(),
                patient_id: "p1".into(),
                users: vec![],
                teams: vec!["cardiology".into()],
                at: when("2026-11-01T09:00:00Z", now),
            })
        );
        let admitted = pas::v1::PatientAdmitted {
            encounter_id: "e1".into(),
            patient_id: "p1".into(),
            ward_team: "ward-7".into(),
            consultant_user_id: "dr-c".into(),
            admitted_at: String::new(),
            ..Default::default()
        }
        .encode_to_vec();
        match trigger("uk.nhs.tessera.pas.PatientAdmitted.v1", &admitted, now).unwrap() {
            Some(Trigger::Open {
                users, teams, at, ..
            }) => {
                assert_eq!(users, vec!["dr-c".to_string()]);
                assert_eq!(teams, vec!["ward-7".to_string()]);
                assert_eq!(at, now, "a missing time is the time it arrived");
            }
            other => panic!("{other:?}"),
        }
        let closed = scheduling::v1::AppointmentClosed {
            appointment_id: "a1".into(),
            patient_id: "p1".into(),
            closed_at: "2026-11-02T10:00:00Z".into(),
            outcome: "attended".into(),
            ..Default::default()
        }
        .encode_to_vec();
        assert!(matches!(
            trigger(
                "uk.nhs.tessera.scheduling.AppointmentClosed.v1",
                &closed,
                now
            )
            .unwrap(),
            Some(Trigger::Close {
                origin: "appointment",
                ..
            })
        ));
        assert_eq!(
            trigger("uk.nhs.tessera.other.Thing.v1", b"", now).unwrap(),
            None
        );
        assert!(trigger("uk.nhs.tessera.pas.PatientAdmitted.v1", b"\xff\xff", now).is_err());
    }

    #[test]
    fn a_transfer_adds_the_new_wards_team_and_only_a_cancelled_admission_ends_the_stay() {
        let now = Utc::now();
        let moved = pas::v1::PatientTransferred {
            encounter_id: "e1".into(),
            patient_id: "p1".into(),
            ward_team: "ward-9".into(),
            transferred_at: "2026-11-02T10:00:00Z".into(),
            ..Default::default()
        }
        .encode_to_vec();
        match trigger("uk.nhs.tessera.pas.PatientTransferred.v1", &moved, now).unwrap() {
            Some(Trigger::Open {
                source,
                teams,
                users,
                ..
            }) => {
                assert_eq!(
                    source, "encounter:e1",
                    "the discharge ends it with the rest"
                );
                assert_eq!(teams, vec!["ward-9".to_string()]);
                assert!(users.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let cancelled = |what: &str| {
            pas::v1::EncounterActionCancelled {
                encounter_id: "e1".into(),
                patient_id: "p1".into(),
                cancelled: what.into(),
                cancelled_at: "2026-11-02T11:00:00Z".into(),
                reason: "entered in error".into(),
            }
            .encode_to_vec()
        };
        let t = "uk.nhs.tessera.pas.EncounterActionCancelled.v1";
        assert!(matches!(
            trigger(t, &cancelled("admission"), now).unwrap(),
            Some(Trigger::Close { ref source, .. }) if source == "encounter:e1"
        ));
        assert_eq!(trigger(t, &cancelled("transfer"), now).unwrap(), None);
        assert_eq!(trigger(t, &cancelled("discharge"), now).unwrap(), None);
    }
}
