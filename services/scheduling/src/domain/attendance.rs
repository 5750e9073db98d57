//! How an appointment ended: its attendance code (NHS Data Dictionary "Attended or did not
//! attend", NHS_RULES §8) and, for a cancellation, who cancelled.
use serde::{Deserialize, Serialize};

/// Who cancelled: the patient (code 2) or the provider (code 4). Neither stops an RTT clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CancelledBy {
    Patient,
    Provider,
}

impl CancelledBy {
    pub fn code(self) -> i16 {
        match self {
            CancelledBy::Patient => 2,
            CancelledBy::Provider => 4,
        }
    }
}

/// An outcome recorded after the appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Attendance {
    /// 5: attended on time, or late but before the professional was ready.
    Attended,
    /// 6: arrived late but was seen.
    LateSeen,
    /// 7: arrived late, not seen.
    LateNotSeen,
    /// 3: did not attend, no advance warning.
    DidNotAttend,
}

impl Attendance {
    pub fn code(self) -> i16 {
        match self {
            Attendance::Attended => 5,
            Attendance::LateSeen => 6,
            Attendance::LateNotSeen => 7,
            Attendance::DidNotAttend => 3,
        }
    }

    /// The appointment's status after this outcome.
    pub fn status(self) -> &'static str {
        match self {
            Attendance::Attended | Attendance::LateSeen => "attended",
            Attendance::LateNotSeen => "not-seen",
            Attendance::DidNotAttend => "did-not-attend",
        }
    }

    /// Whether the patient should be offered another appointment (the rebooking worklist).
    pub fn needs_rebooking(self) -> bool {
        matches!(self, Attendance::LateNotSeen | Attendance::DidNotAttend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_data_dictionarys() {
        assert_eq!(CancelledBy::Patient.code(), 2);
        assert_eq!(CancelledBy::Provider.code(), 4);
        let codes: Vec<i16> = [
            Attendance::Attended,
            Attendance::LateSeen,
            Attendance::LateNotSeen,
            Attendance::DidNotAttend,
        ]
        .iter()
        .map(|a| a.code())
        .collect();
        assert_eq!(codes, vec![5, 6, 7, 3]);
        assert!(Attendance::DidNotAttend.needs_rebooking());
        assert!(!Attendance::Attended.needs_rebooking());
    }
}
