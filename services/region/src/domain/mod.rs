//! The summary's shape: what one clinician sees of one patient across the region, each line
//! labelled with its trust and how fresh it is, and every item they may not see listed as
//! withheld (never silently absent). No I/O.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who the patient is, as one trust's index has them. Contact details (address, GP
/// practice) are absent when sealed, or for a restricted patient.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Demographics {
    pub trust: String,
    pub patient_id: String,
    pub nhs_number: Option<String>,
    pub nhs_number_verified: bool,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub gp_practice: Option<String>,
    pub restricted: bool,
    /// When this trust's record last changed here.
    pub as_of: DateTime<Utc>,
}

impl std::fmt::Debug for Demographics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demographics")
            .field("trust", &self.trust)
            .field("patient_id", &self.patient_id)
            .finish_non_exhaustive()
    }
}

/// A referral's RTT clock: running or stopped, since when, and the weeks waited (national
/// counting, `tessera_rtt`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rtt {
    /// `running` (an open period), `stopped`, `nullified`, `transferred-out`, or `none`.
    pub clock: String,
    pub clock_start: Option<NaiveDate>,
    pub clock_stop: Option<NaiveDate>,
    pub days_waited: Option<i64>,
    /// Completed weeks (the band's lower bound: `>k–k+1`).
    pub weeks_waited: Option<i64>,
    /// Waited beyond 18 weeks (126 days).
    pub breach: bool,
}

impl Rtt {
    /// The clock as of `today`: a running clock counts to today, a stopped one (or one
    /// transferred out) to its stop; a nullified period (a first appointment not attended)
    /// counts no wait.
    pub fn at(
        clock: &str,
        start: Option<NaiveDate>,
        stop: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        let end = match clock {
            "running" => Some(today),
            "stopped" | "transferred-out" => stop,
            _ => None,
        };
        let days = start.zip(end).map(|(s, e)| tessera_rtt::days_waited(s, e));
        Self {
            clock: clock.to_string(),
            clock_start: start,
            clock_stop: stop,
            days_waited: days,
            weeks_waited: days.map(tessera_rtt::week_band),
            breach: days.is_some_and(tessera_rtt::is_breach),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Referral {
    pub trust: String,
    pub id: Uuid,
    pub patient_id: String,
    /// e-RS state: AWAITING_TRIAGE, ACCEPTED, BOOKED, COMPLETED, ...
    pub state: String,
    pub priority: Option<String>,
    pub specialty: Option<String>,
    pub treatment_function: Option<String>,
    pub team: Option<String>,
    pub received_on: Option<NaiveDate>,
    pub ubrn: Option<String>,
    pub rtt: Option<Rtt>,
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Appointment {
    pub trust: String,
    pub id: Uuid,
    pub patient_id: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// `booked`, or the outcome: attended, cancelled, did-not-attend...
    pub status: String,
    pub treatment_function: Option<String>,
    pub team: Option<String>,
    pub clinician: Option<String>,
    pub as_of: DateTime<Utc>,
}

/// A hospital spell: admitted, perhaps transferred, perhaps discharged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Admission {
    pub trust: String,
    pub id: Uuid,
    pub patient_id: String,
    pub admitted_at: Option<DateTime<Utc>>,
    pub ward_team: Option<String>,
    pub ward: Option<String>,
    pub consultant: Option<String>,
    pub purpose: Option<String>,
    /// `in-progress`, `finished` or `cancelled`.
    pub status: String,
    pub discharged_at: Option<DateTime<Utc>>,
    pub discharge_method: Option<String>,
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Document {
    pub trust: String,
    pub id: Uuid,
    pub patient_id: String,
    /// SNOMED CT document type.
    pub type_code: String,
    pub title: String,
    pub author: String,
    /// draft, final, amended, entered-in-error.
    pub status: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub as_of: DateTime<Utc>,
    /// Its signed content is here, to read on request
    /// (`GET /patients/{id}/documents/{document}/content`); a draft's is not.
    #[serde(default)]
    pub readable: bool,
}

/// Something the viewer may not see: which trust holds it, what kind of thing it is, and
/// the decision's reason (`access.consent`, `access.sealed`, ...). Nothing of its content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Withheld {
    pub trust: String,
    /// `record` (the trust's whole record), `document`, `admission`, `contact`.
    pub kind: String,
    pub reason: String,
}

/// One trust's part: whether it was shown, why not, and how fresh its feeds are.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrustPart {
    pub trust: String,
    /// Shown, or withheld as a whole.
    pub shown: bool,
    /// The decision's reason (`ok`, `ok-break-glass`, `access.consent`, ...).
    pub reason: String,
    /// How this trust's record was linked to the viewer's (`viewer`, `nhs-number`, `review`,
    /// `first`).
    pub linked_by: String,
    /// The newest event this service has applied from the trust, per stream.
    pub feeds: Vec<Feed>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Feed {
    pub stream: String,
    pub last_event_at: DateTime<Utc>,
}

/// The regional summary of one patient for one viewer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// The viewer's trust's patient id.
    pub patient_id: String,
    pub person_id: Option<Uuid>,
    pub generated_at: DateTime<Utc>,
    pub trusts: Vec<TrustPart>,
    pub demographics: Vec<Demographics>,
    pub referrals: Vec<Referral>,
    pub appointments: Vec<Appointment>,
    pub admissions: Vec<Admission>,
    pub documents: Vec<Document>,
    pub withheld: Vec<Withheld>,
}

impl Summary {
    /// How many items it shows (the audit record's count).
    pub fn shown(&self) -> usize {
        self.demographics.len()
            + self.referrals.len()
            + self.appointments.len()
            + self.admissions.len()
            + self.documents.len()
    }

    /// Newest first within each list, whatever trust it came from.
    pub fn sort(&mut self) {
        use std::cmp::Reverse;
        self.referrals.sort_by_key(|r| Reverse(r.received_on));
        self.appointments.sort_by_key(|a| Reverse(a.starts_at));
        self.admissions.sort_by_key(|a| Reverse(a.admitted_at));
        self.documents.sort_by_key(|d| Reverse(d.created_at));
    }
}

#[cfg(test)]
mod tests {
    use super::Rtt;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_running_clock_counts_to_today_and_breaches_after_126_days() {
        let r = Rtt::at("running", Some(d("2026-01-01")), None, d("2026-05-07"));
        assert_eq!(r.days_waited, Some(126));
        assert_eq!(r.weeks_waited, Some(17));
        assert!(!r.breach);
        let r = Rtt::at("running", Some(d("2026-01-01")), None, d("2026-05-08"));
        assert_eq!(r.days_waited, Some(127));
        assert_eq!(r.weeks_waited, Some(18));
        assert!(r.breach);
    }

    #[test]
    fn a_stopped_clock_counts_to_its_stop_not_to_today() {
        let r = Rtt::at(
            "stopped",
            Some(d("2026-01-01")),
            Some(d("2026-01-29")),
            d("2026-12-01"),
        );
        assert_eq!(r.days_waited, Some(28));
        assert_eq!(r.weeks_waited, Some(3));
        let none = Rtt::at("none", None, None, d("2026-12-01"));
        assert_eq!(none.days_waited, None);
        let nullified = Rtt::at(
            "nullified",
            Some(d("2026-01-01")),
            Some(d("2026-01-29")),
            d("2026-12-01"),
        );
        assert_eq!(nullified.days_waited, None);
        assert!(!nullified.breach);
    }
}
