//! A referral's lifecycle: its e-RS states and the legal transitions between them, where it
//! came from, and how urgent it is.
use super::DomainError;
use serde::Serialize;

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
}
