//! Clock events from the services that see the patient (docs/contracts/clock-events.md):
//! appointment outcomes from scheduling, admissions and decisions to admit from PAS. Each is
//! recorded once per pathway, named by its source, so a redelivery changes nothing; a
//! producer's contract breach is logged and skipped, since retrying cannot fix it.
use crate::domain::{ClockFlags, EventKind, Ppid};
use crate::store::{self, NewClockEvent};
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::{pas, scheduling};

/// One clock event another service's event means, on the pathway it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub ppid: String,
    pub issuer: String,
    pub on_date: NaiveDate,
    pub kind: EventKind,
    pub source: String,
}

fn day(date: &str, time: &str, fallback: DateTime<Utc>) -> NaiveDate {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(time)
                .ok()
                .map(|t| t.date_naive())
        })
        .unwrap_or(fallback.date_naive())
}

fn kind(name: &str, flags: ClockFlags) -> Result<EventKind, HandlerError> {
    EventKind::parse(name, flags)
        .map_err(|e| HandlerError::refused("event.clock-kind", e.to_string()))
}

/// The clock kind an RTT period status recorded at an outcome means; `None` for 20 (or
/// nothing recorded) and for codes that are not the outcome's to give.
pub fn status_kind(code: &str) -> Result<Option<EventKind>, HandlerError> {
    let f = ClockFlags::default;
    Ok(Some(match code.trim() {
        "" | "20" | "99" => return Ok(None),
        "30" => kind("treated", f())?,
        "31" | "32" => kind(
            "active-monitoring",
            ClockFlags {
                by_patient: Some(code.trim() == "31"),
                ..f()
            },
        )?,
        "34" => kind("decision-not-to-treat", f())?,
        "35" => kind("declined", f())?,
        "36" => kind("died", f())?,
        "11" => kind("ended-active-monitoring", f())?,
        "12" => kind("new-clock", f())?,
        "21" => kind("transferred-out", f())?,
        c @ ("90" | "91" | "92" | "98") => kind(
            "non-rtt",
            ClockFlags {
                non_rtt_code: c.parse().ok(),
                ..f()
            },
        )?,
        other => {
            return Err(HandlerError::refused(
                "event.rtt-status",
                format!("RTT status {other} is not one an outcome records"),
            ))
        }
    }))
}

/// The clock events a scheduling or PAS event carries (docs/contracts/clock-events.md).
pub fn inbound(
    ce_type: &str,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<Inbound>, HandlerError> {
    let bad = |e: prost::DecodeError| HandlerError::undecodable(ce_type, e);
    let mut out = Vec::new();
    match ce_type {
        "uk.nhs.tessera.scheduling.AppointmentClosed.v1" => {
            let m = scheduling::v1::AppointmentClosed::decode(payload).map_err(bad)?;
            if m.ppid.is_empty() {
                return Ok(out);
            }
            let on_date = day(&m.appointment_date, &m.closed_at, now);
            let src = |what: &str| format!("scheduling:appointment:{}:{what}", m.appointment_id);
            let f = ClockFlags::default;
            let attendance = match m.attendance.trim() {
                "5" | "6" => Some(kind("attended", f())?),
                // 7 (arrived late, not seen) counts as a non-attendance, as 3 does.
                "3" | "7" if m.discharged => Some(kind("dna-discharged", f())?),
                "3" | "7" => Some(kind(
                    "dna",
                    ClockFlags {
                        first_appointment: Some(m.first_appointment),
                        communicated: Some(m.communicated),
                        ..f()
                    },
                )?),
                "2" | "4" => Some(kind(
                    "cancelled",
                    ClockFlags {
                        by_patient: Some(m.attendance.trim() == "2"),
                        ..f()
                    },
                )?),
                "" | "0" => None,
                other => {
                    return Err(HandlerError::refused(
                        "event.attendance",
                        format!("attendance code {other} is not a Data Dictionary code"),
                    ))
                }
            };
            if let Some(k) = attendance {
                out.push(Inbound {
                    ppid: m.ppid.clone(),
                    issuer: m.ppid_issuer.clone(),
                    on_date,
                    kind: k,
                    source: src("attendance"),
                });
            }
            if let Some(k) = status_kind(&m.rtt_status)? {
                out.push(Inbound {
                    ppid: m.ppid.clone(),
                    issuer: m.ppid_issuer.clone(),
                    on_date,
                    kind: k,
                    source: src("status"),
                });
            }
        }
        "uk.nhs.tessera.pas.PatientAdmitted.v1" => {
            let m = pas::v1::PatientAdmitted::decode(payload).map_err(bad)?;
            if m.ppid.is_empty() {
                return Ok(out);
            }
            let name = match m.admission_purpose.as_str() {
                "treatment" => "admitted-for-treatment",
                "diagnostic" | "pre-operative" | "procedure-not-done" => "admitted-no-treatment",
                other => {
                    return Err(HandlerError::refused(
                        "event.admission-purpose",
                        format!("admission purpose {other:?} is not one of the contract's"),
                    ))
                }
            };
            out.push(Inbound {
                ppid: m.ppid.clone(),
                issuer: m.ppid_issuer.clone(),
                on_date: day("", &m.admitted_at, now),
                kind: kind(name, ClockFlags::default())?,
                source: format!("pas:encounter:{}:admitted", m.encounter_id),
            });
        }
        "uk.nhs.tessera.pas.DecisionToAdmit.v1" => {
            let m = pas::v1::DecisionToAdmit::decode(payload).map_err(bad)?;
            if m.ppid.is_empty() {
                return Ok(out);
            }
            out.push(Inbound {
                ppid: m.ppid.clone(),
                issuer: m.ppid_issuer.clone(),
                on_date: day(&m.decided_on, "", now),
                kind: kind("decision-to-treat", ClockFlags::default())?,
                source: format!("pas:waiting-list:{}:decision", m.waiting_list_entry_id),
            });
        }
        _ => {}
    }
    Ok(out)
}

pub struct ClockEvents;

impl Handler for ClockEvents {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.ce_type == super::bookings::BOOKED {
                return super::bookings::booked(txn, event).await;
            }
            let events = match inbound(&event.ce_type, &event.payload, Utc::now()) {
                Ok(e) => e,
                Err(e) => {
                    // A producer's contract breach is not fixed by retrying: say so and move on.
                    tracing::warn!(event_id = %event.event_id, ce_type = %event.ce_type, error = %e,
                        "clock event refused");
                    return Ok(());
                }
            };
            for e in events {
                let Ok(ppid) = Ppid::parse(&e.ppid, &e.issuer) else {
                    tracing::warn!(event_id = %event.event_id, "clock event names no valid PPID");
                    continue;
                };
                let Some(p) = store::pathway_id_by_ppid(txn, &ppid)
                    .await
                    .map_err(HandlerError::store)?
                else {
                    // Another provider's pathway, or one this trust never received.
                    tracing::info!(event_id = %event.event_id, "clock event for an unknown pathway");
                    continue;
                };
                store::record_clock_event(
                    txn,
                    &event.tenant,
                    NewClockEvent {
                        pathway_id: p,
                        on_date: e.on_date,
                        kind: e.kind,
                        source: e.source,
                    },
                    event.trace.as_ref(),
                )
                .await
                .map_err(HandlerError::store)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(attendance: &str, first: bool, status: &str) -> Vec<u8> {
        scheduling::v1::AppointmentClosed {
            appointment_id: "a1".into(),
            patient_id: "p".into(),
            closed_at: "2026-03-04T10:00:00Z".into(),
            outcome: "attended".into(),
            ppid: "ABC".into(),
            ppid_issuer: "RXR".into(),
            attendance: attendance.into(),
            first_appointment: first,
            communicated: true,
            rtt_status: status.into(),
            appointment_date: "2026-03-03".into(),
            discharged: false,
            ..Default::default()
        }
        .encode_to_vec()
    }

    const CLOSED: &str = "uk.nhs.tessera.scheduling.AppointmentClosed.v1";

    #[test]
    fn an_attended_appointment_with_treatment_is_two_events() {
        let v = inbound(CLOSED, &closed("5", true, "30"), Utc::now()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].kind.name(), "attended");
        assert_eq!(v[1].kind.name(), "treated");
        assert_eq!(v[0].on_date, NaiveDate::from_ymd_opt(2026, 3, 3).unwrap());
        assert_ne!(v[0].source, v[1].source);
    }

    #[test]
    fn a_first_appointment_dna_carries_its_flags() {
        let v = inbound(CLOSED, &closed("3", true, ""), Utc::now()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind.name(), "dna");
        assert_eq!(v[0].kind.flags().first_appointment, Some(true));
        assert_eq!(v[0].kind.flags().communicated, Some(true));
    }

    #[test]
    fn cancellations_are_recorded_and_never_stop() {
        for code in ["2", "4"] {
            let v = inbound(CLOSED, &closed(code, false, ""), Utc::now()).unwrap();
            assert_eq!(v[0].kind.name(), "cancelled");
            assert!(!v[0].kind.stops());
        }
    }

    #[test]
    fn bad_codes_are_refused() {
        assert!(inbound(CLOSED, &closed("9", false, ""), Utc::now()).is_err());
        assert!(inbound(CLOSED, &closed("5", false, "33"), Utc::now()).is_err());
        assert!(inbound(CLOSED, b"\xff\xff", Utc::now()).is_err());
    }

    #[test]
    fn admissions_stop_only_for_treatment() {
        let adm = |purpose: &str| {
            pas::v1::PatientAdmitted {
                encounter_id: "e1".into(),
                patient_id: "p".into(),
                ward_team: "W1".into(),
                consultant_user_id: String::new(),
                admitted_at: "2026-03-05T09:00:00Z".into(),
                ppid: "ABC".into(),
                ppid_issuer: "RXR".into(),
                admission_purpose: purpose.into(),
            }
            .encode_to_vec()
        };
        let t = "uk.nhs.tessera.pas.PatientAdmitted.v1";
        let v = inbound(t, &adm("treatment"), Utc::now()).unwrap();
        assert!(v[0].kind.stops());
        let v = inbound(t, &adm("diagnostic"), Utc::now()).unwrap();
        assert_eq!(v[0].kind.name(), "admitted-no-treatment");
        assert!(!v[0].kind.stops());
        assert!(inbound(t, &adm("holiday"), Utc::now()).is_err());
    }
}
