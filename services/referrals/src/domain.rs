//! Parsed domain types: the e-RS lifecycle and its legal transitions, UBRNs, pathway
//! identifiers, and clock events as the API and the events name them. Parsing happens once at
//! the edge; everything behind it holds these types.
use chrono::NaiveDate;
use serde::Serialize;
use tessera_rtt::EventKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("a referral in state {from} cannot move to {to}")]
    IllegalTransition {
        from: ReferralState,
        to: ReferralState,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            code,
            message: message.into(),
        }
    }
}

/// The referral's state, after the e-RS referral states (NHS_RULES §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferralState {
    /// On the provider's "Referrals for Review" worklist.
    AwaitingTriage,
    /// The provider accepted it (e-RS A013): the receiving team gains a relationship.
    Accepted,
    /// Rejected with a reason, back to the referrer (A014).
    Rejected,
    /// Returned to the referrer with advice; the referrer may send it again.
    TriageResponse,
    /// An appointment is booked for it.
    Booked,
    /// Cancelled: it cannot progress.
    Cancelled,
    /// The care it asked for is complete.
    Completed,
    /// The patient is discharged (back to the referrer).
    Discharged,
}

impl ReferralState {
    pub const ALL: [ReferralState; 8] = [
        Self::AwaitingTriage,
        Self::Accepted,
        Self::Rejected,
        Self::TriageResponse,
        Self::Booked,
        Self::Cancelled,
        Self::Completed,
        Self::Discharged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingTriage => "AWAITING_TRIAGE",
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            Self::TriageResponse => "TRIAGE_RESPONSE",
            Self::Booked => "BOOKED",
            Self::Cancelled => "CANCELLED",
            Self::Completed => "COMPLETED",
            Self::Discharged => "DISCHARGED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// A closed referral cannot move again.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Cancelled | Self::Completed | Self::Discharged
        )
    }

    /// Where a referral may go from here.
    pub fn successors(self) -> &'static [ReferralState] {
        use ReferralState as S;
        match self {
            S::AwaitingTriage => &[S::Accepted, S::Rejected, S::TriageResponse, S::Cancelled],
            // The referrer sends it again after the advice, or gives up.
            S::TriageResponse => &[S::AwaitingTriage, S::Cancelled],
            S::Accepted => &[S::Booked, S::Cancelled, S::Completed, S::Discharged],
            // An appointment cancelled (by either side) puts it back to be rebooked.
            S::Booked => &[S::Accepted, S::Cancelled, S::Completed, S::Discharged],
            S::Rejected | S::Cancelled | S::Completed | S::Discharged => &[],
        }
    }

    /// Checks a transition; illegal ones are refused with both states named.
    pub fn to(self, next: ReferralState) -> Result<ReferralState, DomainError> {
        if self.successors().contains(&next) {
            Ok(next)
        } else {
            Err(DomainError::IllegalTransition {
                from: self,
                to: next,
            })
        }
    }

    /// Transitions that send the referral back to the referrer need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::TriageResponse | Self::Cancelled
        )
    }
}

impl std::fmt::Display for ReferralState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the referral came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// NHS e-Referral Service, with a UBRN: the clock starts when the UBRN is converted.
    #[serde(rename = "e-rs")]
    Ers,
    /// A paper (or emailed) GP referral: the clock starts when the provider receives it.
    #[serde(rename = "gp")]
    Gp,
    /// Another consultant.
    #[serde(rename = "consultant")]
    Consultant,
    /// A ratified self-referral.
    #[serde(rename = "self")]
    SelfReferral,
}

impl Source {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "e-rs" => Self::Ers,
            "gp" => Self::Gp,
            "consultant" => Self::Consultant,
            "self" => Self::SelfReferral,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ers => "e-rs",
            Self::Gp => "gp",
            Self::Consultant => "consultant",
            Self::SelfReferral => "self",
        }
    }
}

/// Referral priority (e-RS: routine, urgent, two-week wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Routine,
    Urgent,
    TwoWeekWait,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "routine" => Self::Routine,
            "urgent" => Self::Urgent,
            "two-week-wait" => Self::TwoWeekWait,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Urgent => "urgent",
            Self::TwoWeekWait => "two-week-wait",
        }
    }

    /// FHIR `ServiceRequest.priority` (request-priority): routine, urgent, asap.
    pub fn fhir(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Urgent => "urgent",
            Self::TwoWeekWait => "asap",
        }
    }

    pub fn from_fhir(s: &str) -> Option<Self> {
        Some(match s {
            "routine" => Self::Routine,
            "urgent" => Self::Urgent,
            "asap" | "stat" => Self::TwoWeekWait,
            _ => return None,
        })
    }
}

/// The e-RS Unique Booking Reference Number: 12 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ubrn(String);

impl Ubrn {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 12 && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(DomainError::invalid(
                "ubrn",
                "format",
                "a UBRN is 12 digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pathway identifier a UBRN gives: the UBRN padded to 20 characters with leading
    /// zeros, issued by X09 (NHS_RULES §2; the padding side is our reading, ADR 18).
    pub fn ppid(&self) -> Ppid {
        Ppid {
            id: format!("{:0>20}", self.0),
            issuer: UBRN_ISSUER.to_string(),
        }
    }
}

/// The issuer of UBRN-based pathway identifiers.
pub const UBRN_ISSUER: &str = "X09";

/// Patient pathway identifier: up to 20 letters and digits, and the organisation that issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ppid {
    pub id: String,
    pub issuer: String,
}

impl Ppid {
    pub fn parse(id: &str, issuer: &str) -> Result<Self, DomainError> {
        let id = id.trim();
        if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid(
                "ppid",
                "format",
                "a PPID is 1–20 letters and digits",
            ));
        }
        let issuer = issuer.trim().to_ascii_uppercase();
        if !(3..=8).contains(&issuer.len()) || !issuer.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid(
                "ppid_issuer",
                "format",
                "the issuer is an ORG code (3–8 letters and digits; X09 for UBRNs)",
            ));
        }
        Ok(Self {
            id: id.to_ascii_uppercase(),
            issuer,
        })
    }
}

/// A specialty or treatment function code: 3 digits (Data Dictionary main specialty /
/// treatment function codes).
pub fn specialty_code(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(DomainError::invalid(field, "format", "a 3-digit code"))
    }
}

/// A team code or user id: 1–64 printable characters without spaces.
pub fn code(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid(
            field,
            "format",
            "1–64 characters, no spaces",
        ));
    }
    Ok(t.to_string())
}

pub fn date(field: &'static str, s: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(field, "format", "a date, YYYY-MM-DD"))
}

/// A clock event as stored: the kind's name and the flags some kinds carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockKind {
    pub kind: &'static str,
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

/// The clock event names the API accepts, and what each means to the rules engine.
pub const CLOCK_KINDS: [&str; 22] = [
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

/// The flags a clock event may carry, as given.
#[derive(Debug, Clone, Default)]
pub struct ClockFlags {
    pub first_appointment: Option<bool>,
    pub communicated: Option<bool>,
    pub by_patient: Option<bool>,
    pub original_start: Option<NaiveDate>,
    pub non_rtt_code: Option<i16>,
}

impl ClockKind {
    /// Parses a kind and its flags; a kind that needs a flag refuses to guess it.
    pub fn parse(kind: &str, f: ClockFlags) -> Result<Self, DomainError> {
        let Some(kind) = CLOCK_KINDS.iter().copied().find(|k| *k == kind.trim()) else {
            return Err(DomainError::invalid(
                "event",
                "kind",
                format!("one of: {}", CLOCK_KINDS.join(", ")),
            ));
        };
        let mut k = ClockKind {
            kind,
            first_appointment: None,
            communicated: None,
            by_patient: None,
            original_start: None,
            non_rtt_code: None,
        };
        match kind {
            "dna" => {
                k.first_appointment = Some(f.first_appointment.ok_or_else(|| {
                    DomainError::invalid(
                        "first_appointment",
                        "required",
                        "say whether the DNA was of the first appointment",
                    )
                })?);
                // Not shown to have been communicated: it cannot nullify (rule 5).
                k.communicated = Some(f.communicated.unwrap_or(false));
            }
            "active-monitoring" => {
                k.by_patient = Some(f.by_patient.ok_or_else(|| {
                    DomainError::invalid(
                        "by_patient",
                        "required",
                        "active monitoring initiated by the patient (31) or the clinician (32)",
                    )
                })?);
            }
            "cancelled" => k.by_patient = Some(f.by_patient.unwrap_or(false)),
            "transferred-in" => {
                k.original_start = Some(f.original_start.ok_or_else(|| {
                    DomainError::invalid(
                        "original_start",
                        "required",
                        "a transfer in keeps the original clock start",
                    )
                })?);
            }
            "non-rtt" => {
                let c = f.non_rtt_code.ok_or_else(|| {
                    DomainError::invalid("non_rtt_code", "required", "90, 91, 92 or 98")
                })?;
                if ![90, 91, 92, 98].contains(&c) {
                    return Err(DomainError::invalid(
                        "non_rtt_code",
                        "code",
                        "90, 91, 92 or 98",
                    ));
                }
                k.non_rtt_code = Some(c);
            }
            _ => {}
        }
        Ok(k)
    }

    /// What the rules engine makes of it.
    pub fn rtt(&self) -> EventKind {
        use EventKind as K;
        let yes = |b: Option<bool>| b.unwrap_or(false);
        match self.kind {
            "referral-received" => K::ReferralReceived,
            "ubrn-converted" => K::UbrnConverted,
            "attended" => K::Attended,
            "dna" => K::Dna {
                first_appointment: yes(self.first_appointment),
                communicated: yes(self.communicated),
            },
            "dna-discharged" => K::DnaDischarged,
            "rebooked" => K::Rebooked,
            "decision-to-treat" => K::DecisionToTreat,
            "admitted-for-treatment" => K::AdmittedForTreatment,
            "admitted-no-treatment" => K::AdmittedNoTreatment,
            "treated" => K::Treated,
            "transplant-listed" => K::TransplantListed,
            "active-monitoring" => K::ActiveMonitoring {
                by_patient: yes(self.by_patient),
            },
            "ended-active-monitoring" => K::EndedActiveMonitoring,
            "decision-not-to-treat" => K::DecisionNotToTreat,
            "returned-to-primary-care" => K::ReturnedToPrimaryCare,
            "declined" => K::Declined,
            "died" => K::Died,
            "cancelled" => K::Cancelled {
                by_patient: yes(self.by_patient),
            },
            "transferred-out" => K::TransferredOut,
            "transferred-in" => {
                self.original_start
                    .map_or(K::NewClock, |original_start| K::TransferredIn {
                        original_start,
                    })
            }
            "new-clock" => K::NewClock,
            _ => K::NonRtt(self.non_rtt_code.unwrap_or(98).clamp(0, 255) as u8),
        }
    }

    /// Whether the event stops a running clock (used to let a referral close).
    pub fn stops(&self) -> bool {
        let start = chrono::NaiveDate::MIN;
        let ps = tessera_rtt::periods(&[
            tessera_rtt::Event {
                date: start,
                kind: EventKind::ReferralReceived,
            },
            tessera_rtt::Event {
                date: start,
                kind: EventKind::Attended,
            },
            tessera_rtt::Event {
                date: start,
                kind: self.rtt(),
            },
        ]);
        ps.first().is_some_and(|p| p.end.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralState as S;

    #[test]
    fn every_transition_is_legal_or_refused_by_the_table() {
        let legal = [
            (S::AwaitingTriage, S::Accepted),
            (S::AwaitingTriage, S::Rejected),
            (S::AwaitingTriage, S::TriageResponse),
            (S::AwaitingTriage, S::Cancelled),
            (S::TriageResponse, S::AwaitingTriage),
            (S::TriageResponse, S::Cancelled),
            (S::Accepted, S::Booked),
            (S::Accepted, S::Cancelled),
            (S::Accepted, S::Completed),
            (S::Accepted, S::Discharged),
            (S::Booked, S::Accepted),
            (S::Booked, S::Cancelled),
            (S::Booked, S::Completed),
            (S::Booked, S::Discharged),
        ];
        for from in S::ALL {
            for to in S::ALL {
                let ok = from.to(to).is_ok();
                assert_eq!(ok, legal.contains(&(from, to)), "{from} -> {to}");
            }
        }
        for closed in [S::Rejected, S::Cancelled, S::Completed, S::Discharged] {
            assert!(closed.is_closed() && closed.successors().is_empty());
        }
    }

    #[test]
    fn states_parse_back() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("accepted"), Some(S::Accepted));
        assert_eq!(S::parse("LOST"), None);
    }

    #[test]
    fn ubrn_and_its_ppid() {
        let u = Ubrn::parse("0001 2345 6789").unwrap_or_else(|_| Ubrn(String::new()));
        assert_eq!(u.as_str(), "000123456789");
        let p = u.ppid();
        assert_eq!(p.id, "00000000000123456789");
        assert_eq!(p.id.len(), 20);
        assert_eq!(p.issuer, "X09");
        assert!(Ubrn::parse("12345").is_err());
        assert!(Ubrn::parse("12345678901A").is_err());
    }

    #[test]
    fn ppids_are_bounded() {
        assert!(Ppid::parse("ABC123", "rxr").is_ok_and(|p| p.issuer == "RXR"));
        assert!(Ppid::parse("A".repeat(21).as_str(), "RXR").is_err());
        assert!(Ppid::parse("AB-1", "RXR").is_err());
        assert!(Ppid::parse("AB1", "R").is_err());
    }

    #[test]
    fn clock_kinds_need_their_flags() {
        let none = ClockFlags::default;
        assert!(ClockKind::parse("dna", none()).is_err());
        assert!(ClockKind::parse("active-monitoring", none()).is_err());
        assert!(ClockKind::parse("transferred-in", none()).is_err());
        assert!(ClockKind::parse("non-rtt", none()).is_err());
        assert!(ClockKind::parse(
            "non-rtt",
            ClockFlags {
                non_rtt_code: Some(93),
                ..none()
            }
        )
        .is_err());
        assert!(ClockKind::parse("lost", none()).is_err());
        for k in CLOCK_KINDS {
            let f = ClockFlags {
                first_appointment: Some(true),
                communicated: Some(true),
                by_patient: Some(true),
                original_start: NaiveDate::from_ymd_opt(2025, 1, 1),
                non_rtt_code: Some(90),
            };
            assert!(ClockKind::parse(k, f).is_ok(), "{k}");
        }
    }

    #[test]
    fn which_kinds_stop_a_clock() {
        let stops = |k: &str, f: ClockFlags| ClockKind::parse(k, f).is_ok_and(|c| c.stops());
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
}
