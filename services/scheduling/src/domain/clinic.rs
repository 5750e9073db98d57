//! A clinic and its session templates, as a request describes them, checked once here.
use super::{DomainError, Pattern};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// The trust's own code for a clinic: 1–20 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ClinicCode(String);

impl ClinicCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let ok = (1..=20).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(s.to_uppercase()))
        } else {
            Err(DomainError::invalid(
                "code",
                "format",
                "a clinic code is 1 to 20 letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a slot is for, most urgent first: a routine referral is not booked into an urgent
/// or two-week-wait slot (e-RS `INAPPROPRIATE_SLOT`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SlotType {
    TwoWeekWait,
    Urgent,
    New,
    FollowUp,
}

impl SlotType {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotType::TwoWeekWait => "two-week-wait",
            SlotType::Urgent => "urgent",
            SlotType::New => "new",
            SlotType::FollowUp => "follow-up",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SlotType::TwoWeekWait,
            SlotType::Urgent,
            SlotType::New,
            SlotType::FollowUp,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A clinic to set up.
#[derive(Debug, Clone)]
pub struct NewClinic {
    pub code: ClinicCode,
    pub name: String,
    /// Main specialty and treatment function codes (3 digits, NHS Data Dictionary).
    pub specialty: String,
    pub treatment_function: String,
    pub site: String,
    pub room: Option<String>,
    /// The responsible clinician (a code) or team.
    pub clinician: Option<String>,
    pub team: Option<String>,
    pub services: Vec<SlotType>,
    /// Directly bookable from e-RS.
    pub ers_bookable: bool,
}

/// A three-digit code (specialty, treatment function).
pub fn three_digits(field: &'static str, s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid(field, "format", "a 3-digit code"))
    }
}

/// A session template: when the sessions run, and the slots each holds.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub pattern: Pattern,
    /// Local (clinic) time of day: Europe/London, whatever the season.
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub slot_minutes: u16,
    pub capacity: u16,
    /// Places staff may book beyond `capacity`.
    pub overbook: u16,
    pub slot_type: SlotType,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl NewTemplate {
    /// Checks the template as a whole; the fields are parsed already.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.pattern.validate()?;
        if self.ends <= self.starts {
            return Err(DomainError::invalid(
                "ends",
                "order",
                "a session ends after it starts (same day)",
            ));
        }
        if !(5..=480).contains(&self.slot_minutes) {
            return Err(DomainError::invalid(
                "slot_minutes",
                "range",
                "slots are 5 to 480 minutes long",
            ));
        }
        if self.slot_count() == 0 {
            return Err(DomainError::invalid(
                "slot_minutes",
                "range",
                "the session is shorter than one slot",
            ));
        }
        if !(1..=100).contains(&self.capacity) {
            return Err(DomainError::invalid(
                "capacity",
                "range",
                "a slot holds 1 to 100 patients",
            ));
        }
        if self.overbook > 20 {
            return Err(DomainError::invalid(
                "overbook",
                "range",
                "at most 20 places beyond capacity",
            ));
        }
        if self.valid_to.is_some_and(|to| to < self.valid_from) {
            return Err(DomainError::invalid(
                "valid_to",
                "order",
                "valid_to is on or after valid_from",
            ));
        }
        Ok(())
    }

    /// Whole slots in a session (a remainder shorter than a slot is not offered).
    pub fn slot_count(&self) -> u32 {
        let minutes = (self.ends - self.starts).num_minutes().max(0);
        u32::try_from(minutes / i64::from(self.slot_minutes.max(1))).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Weekday;

    fn template() -> NewTemplate {
        NewTemplate {
            pattern: Pattern::Week {
                weekday: Weekday::Mon,
            },
            starts: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            ends: NaiveTime::from_hms_opt(12, 10, 0).unwrap(),
            slot_minutes: 15,
            capacity: 1,
            overbook: 0,
            slot_type: SlotType::New,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_to: None,
        }
    }

    #[test]
    fn a_template_gives_whole_slots_and_refuses_nonsense() {
        let t = template();
        assert!(t.validate().is_ok());
        assert_eq!(t.slot_count(), 12, "3 h 10 min in 15-minute slots");
        let mut bad = template();
        bad.ends = bad.starts;
        assert!(bad.validate().is_err());
        let mut bad = template();
        bad.capacity = 0;
        assert!(bad.validate().is_err());
        let mut bad = template();
        bad.slot_minutes = 240;
        assert!(bad.validate().is_err(), "shorter than one slot");
    }

    #[test]
    fn clinic_codes_and_slot_types_read_back_as_written() {
        assert_eq!(ClinicCode::parse(" gsurg-1 ").unwrap().as_str(), "GSURG-1");
        assert!(ClinicCode::parse("").is_err());
        assert!(ClinicCode::parse("a b").is_err());
        for t in ["two-week-wait", "urgent", "new", "follow-up"] {
            assert_eq!(SlotType::parse(t).map(SlotType::as_str), Some(t));
        }
        assert!(SlotType::TwoWeekWait < SlotType::FollowUp);
    }
}
