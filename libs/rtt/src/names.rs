//! Clock events by name: the names the API, the events and the store give an [`EventKind`],
//! and the flags some kinds carry. The one place a name becomes the engine's own enum, so no
//! service keeps a string-typed copy of the rules.
use crate::{periods, Event, EventKind};
use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use std::fmt;

/// Every clock event name, in the order the rules document lists them.
pub const NAMES: [&str; 22] = [
    "referral-received",
    "ubrn-converted",
    "attended",
    "dna",
    "dna-discharged",
    "rebooked",
    "decision-to-treat",
    "admitted-for-treatment",
    "admitted-no-treatment",
    "treated",
    "transplant-listed",
    "active-monitoring",
    "ended-active-monitoring",
    "decision-not-to-treat",
    "returned-to-primary-care",
    "declined",
    "died",
    "cancelled",
    "transferred-out",
    "transferred-in",
    "new-clock",
    "non-rtt",
];

/// The flags a clock event may carry: given with a name, or read back from one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClockFlags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_appointment: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communicated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_patient: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_start: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_rtt_code: Option<i16>,
}

/// A name or its flags that make no clock event: the field at fault, a stable code, and
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for KindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for KindError {}

fn refused(field: &'static str, code: &'static str, message: impl Into<String>) -> KindError {
    KindError {
        field,
        code,
        message: message.into(),
    }
}

fn required<T>(v: Option<T>, field: &'static str, why: &str) -> Result<T, KindError> {
    v.ok_or_else(|| refused(field, "required", why))
}

impl EventKind {
    /// Reads a named event and its flags; a kind that needs a flag refuses to guess it.
    pub fn parse(name: &str, f: ClockFlags) -> Result<Self, KindError> {
        use EventKind as K;
        Ok(match name.trim() {
            "referral-received" => K::ReferralReceived,
            "ubrn-converted" => K::UbrnConverted,
            "attended" => K::Attended,
            "dna" => K::Dna {
                first_appointment: required(
                    f.first_appointment,
                    "first_appointment",
                    "say whether the DNA was of the first appointment",
                )?,
                // Not shown to have been communicated: it cannot nullify (rule 5).
                communicated: f.communicated.unwrap_or(false),
            },
            "dna-discharged" => K::DnaDischarged,
            "rebooked" => K::Rebooked,
            "decision-to-treat" => K::DecisionToTreat,
            "admitted-for-treatment" => K::AdmittedForTreatment,
            "admitted-no-treatment" => K::AdmittedNoTreatment,
            "treated" => K::Treated,
            "transplant-listed" => K::TransplantListed,
            "active-monitoring" => K::ActiveMonitoring {
                by_patient: required(
                    f.by_patient,
                    "by_patient",
                    "active monitoring initiated by the patient (31) or the clinician (32)",
                )?,
            },
            "ended-active-monitoring" => K::EndedActiveMonitoring,
            "decision-not-to-treat" => K::DecisionNotToTreat,
            "returned-to-primary-care" => K::ReturnedToPrimaryCare,
            "declined" => K::Declined,
            "died" => K::Died,
            "cancelled" => K::Cancelled {
                by_patient: f.by_patient.unwrap_or(false),
            },
            "transferred-out" => K::TransferredOut,
            "transferred-in" => K::TransferredIn {
                original_start: required(
                    f.original_start,
                    "original_start",
                    "a transfer in keeps the original clock start",
                )?,
            },
            "new-clock" => K::NewClock,
            "non-rtt" => {
                let c = required(f.non_rtt_code, "non_rtt_code", "90, 91, 92 or 98")?;
                match c {
                    90 | 91 | 92 | 98 => K::NonRtt(c as u8),
                    _ => return Err(refused("non_rtt_code", "code", "90, 91, 92 or 98")),
                }
            }
            _ => {
                return Err(refused(
                    "event",
                    "kind",
                    format!("one of: {}", NAMES.join(", ")),
                ))
            }
        })
    }

    /// The event's name (one of [`NAMES`]).
    pub fn name(self) -> &'static str {
        use EventKind as K;
        match self {
            K::ReferralReceived => "referral-received",
            K::UbrnConverted => "ubrn-converted",
            K::Attended => "attended",
            K::Dna { .. } => "dna",
            K::DnaDischarged => "dna-discharged",
            K::Rebooked => "rebooked",
            K::DecisionToTreat => "decision-to-treat",
            K::AdmittedForTreatment => "admitted-for-treatment",
            K::AdmittedNoTreatment => "admitted-no-treatment",
            K::Treated => "treated",
            K::TransplantListed => "transplant-listed",
            K::ActiveMonitoring { .. } => "active-monitoring",
            K::EndedActiveMonitoring => "ended-active-monitoring",
            K::DecisionNotToTreat => "decision-not-to-treat",
            K::ReturnedToPrimaryCare => "returned-to-primary-care",
            K::Declined => "declined",
            K::Died => "died",
            K::Cancelled { .. } => "cancelled",
            K::TransferredOut => "transferred-out",
            K::TransferredIn { .. } => "transferred-in",
            K::NewClock => "new-clock",
            K::NonRtt(_) => "non-rtt",
        }
    }

    /// The flags the event carries (what the store keeps beside its name).
    pub fn flags(self) -> ClockFlags {
        use EventKind as K;
        let none = ClockFlags::default();
        match self {
            K::Dna {
                first_appointment,
                communicated,
            } => ClockFlags {
                first_appointment: Some(first_appointment),
                communicated: Some(communicated),
                ..none
            },
            K::ActiveMonitoring { by_patient } | K::Cancelled { by_patient } => ClockFlags {
                by_patient: Some(by_patient),
                ..none
            },
            K::TransferredIn { original_start } => ClockFlags {
                original_start: Some(original_start),
                ..none
            },
            K::NonRtt(c) => ClockFlags {
                non_rtt_code: Some(i16::from(c)),
                ..none
            },
            _ => none,
        }
    }

    /// Whether the event stops a running clock (what lets a referral close).
    pub fn stops(self) -> bool {
        let start = NaiveDate::MIN;
        let events = [EventKind::ReferralReceived, EventKind::Attended, self]
            .map(|kind| Event { date: start, kind });
        periods(&events).first().is_some_and(|p| p.end.is_some())
    }
}

/// As the API shows it: `kind` and the flags it carries.
impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named {
            kind: &'static str,
            #[serde(flatten)]
            flags: ClockFlags,
        }
        Named {
            kind: self.name(),
            flags: self.flags(),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_kinds_need_their_flags() {
        let none = ClockFlags::default;
        assert!(EventKind::parse("dna", none()).is_err());
        assert!(EventKind::parse("active-monitoring", none()).is_err());
        assert!(EventKind::parse("transferred-in", none()).is_err());
        assert!(EventKind::parse("non-rtt", none()).is_err());
        assert!(EventKind::parse(
            "non-rtt",
            ClockFlags {
                non_rtt_code: Some(93),
                ..none()
            }
        )
        .is_err());
        assert!(EventKind::parse("lost", none()).is_err());
        for k in NAMES {
            let f = ClockFlags {
                first_appointment: Some(true),
                communicated: Some(true),
                by_patient: Some(true),
                original_start: NaiveDate::from_ymd_opt(2025, 1, 1),
                non_rtt_code: Some(90),
            };
            assert!(EventKind::parse(k, f).is_ok(), "{k}");
        }
    }

    #[test]
    fn every_name_reads_back_with_its_flags() {
        let f = ClockFlags {
            first_appointment: Some(true),
            communicated: Some(false),
            by_patient: Some(true),
            original_start: NaiveDate::from_ymd_opt(2025, 1, 1),
            non_rtt_code: Some(91),
        };
        for n in NAMES {
            let k = EventKind::parse(n, f).unwrap_or(EventKind::Died);
            assert_eq!(k.name(), n);
            assert_eq!(EventKind::parse(k.name(), k.flags()), Ok(k), "{n}");
        }
    }

    #[test]
    fn which_kinds_stop_a_clock() {
        let stops = |k: &str, f: ClockFlags| EventKind::parse(k, f).is_ok_and(|c| c.stops());
        let none = ClockFlags::default;
        assert!(stops("treated", none()));
        assert!(stops("admitted-for-treatment", none()));
        assert!(stops("returned-to-primary-care", none()));
        assert!(stops("declined", none()));
        assert!(stops("transferred-out", none()));
        assert!(!stops("admitted-no-treatment", none()));
        assert!(!stops(
            "cancelled",
            ClockFlags {
                by_patient: Some(true),
                ..none()
            }
        ));
        assert!(!stops("decision-to-treat", none()));
    }

    #[test]
    fn shown_as_kind_and_flags() {
        let k = EventKind::Dna {
            first_appointment: true,
            communicated: false,
        };
        let v = serde_json::to_value(k).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"kind": "dna", "first_appointment": true, "communicated": false})
        );
    }
}
