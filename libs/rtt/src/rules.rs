//! Clock events to RTT periods. One pathway's events are applied in date order (stable, so
//! same-day events keep the order given). At most one period is open at a time; a new one
//! starts only when none is open, never before the previous one ended.
use chrono::NaiveDate;

/// What happened on a pathway, as the clock sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// 10: the provider received the referral (paper), or the interface service received the
    /// GP's referral.
    ReferralReceived,
    /// 10: e-RS: the patient converted the UBRN (or it appeared on the slot-issue worklist).
    UbrnConverted,
    /// 20: an attended appointment or other care activity; neither starts nor stops.
    Attended,
    /// A DNA (non-attendance without notice). Of the first activity, and clearly communicated:
    /// the clock stops and the period is nullified (33). Otherwise the clock keeps running.
    Dna {
        first_appointment: bool,
        communicated: bool,
    },
    /// A DNA and discharge under the trust's published DNA policy (rule 5): stop 34.
    DnaDischarged,
    /// After a nullified first-appointment DNA: the patient's contact to rebook, or the
    /// clinician's decision to offer another first appointment. A new clock from this date.
    Rebooked,
    /// 20: a decision to treat does not stop the clock.
    DecisionToTreat,
    /// 30: admitted for treatment: the clock stops on the admission date.
    AdmittedForTreatment,
    /// A diagnostic-only or pre-operative admission, or one where the procedure was not done:
    /// the clock keeps running.
    AdmittedNoTreatment,
    /// 30: first definitive treatment outside an admission (e.g. in clinic).
    Treated,
    /// 34: added to the transplant list.
    TransplantListed,
    /// 31 (patient) / 32 (care professional): active monitoring starts; the clock stops.
    ActiveMonitoring { by_patient: bool },
    /// 11: the first activity of a new period after active monitoring (a decision to treat,
    /// the patient ready): a new clock.
    EndedActiveMonitoring,
    /// 34: a decision not to treat.
    DecisionNotToTreat,
    /// 34: discharged back to primary care.
    ReturnedToPrimaryCare,
    /// 35: the patient declined treatment.
    Declined,
    /// 36: the patient died. Nothing after it counts.
    Died,
    /// A cancellation, by the patient or the provider: never stops the clock.
    Cancelled { by_patient: bool },
    /// 21: transferred to another provider: this provider's period ends, not stopped; the
    /// start date and PPID travel with the patient.
    TransferredOut,
    /// Transferred in from another provider: the period keeps the original start date.
    TransferredIn { original_start: NaiveDate },
    /// Rule 3, after a period ended: the second side of a bilateral procedure, a new
    /// treatment not in the care plan, or a re-referral. A new clock.
    NewClock,
    /// 90 after treatment, 91 during active monitoring, 92 not yet referred, 98 not
    /// applicable: outside RTT, no effect.
    NonRtt(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub date: NaiveDate,
    pub kind: EventKind,
}

/// Why a period stopped: the RTT period status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCode {
    /// 30
    Treated,
    /// 31
    ActiveMonitoringPatient,
    /// 32
    ActiveMonitoringClinician,
    /// 33 (the period is nullified)
    FirstAppointmentDna,
    /// 34
    NotTreated,
    /// 35
    Declined,
    /// 36
    Died,
}

impl StopCode {
    pub fn code(self) -> u8 {
        match self {
            Self::Treated => 30,
            Self::ActiveMonitoringPatient => 31,
            Self::ActiveMonitoringClinician => 32,
            Self::FirstAppointmentDna => 33,
            Self::NotTreated => 34,
            Self::Declined => 35,
            Self::Died => 36,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodState {
    /// The clock is running.
    Open,
    /// Stopped on `end` with this code.
    Stopped(StopCode),
    /// Stopped by a first-appointment DNA (33): removed from waiting-time counts.
    Nullified,
    /// Transferred to another provider on `end` (21): off this provider's list, not stopped.
    TransferredOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    /// The status code that started it: 10, 11, or 10 for a rule-3 new clock, a rebooking
    /// or a transfer in.
    pub start_code: u8,
    /// When it stopped (or was transferred out); `None` while open.
    pub end: Option<NaiveDate>,
    pub state: PeriodState,
}

impl Period {
    fn close(&mut self, date: NaiveDate, state: PeriodState) {
        self.end = Some(date.max(self.start));
        self.state = state;
    }
}

/// The pathway's periods, oldest first.
pub fn periods(events: &[Event]) -> Vec<Period> {
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by_key(|e| e.date);
    let mut done: Vec<Period> = Vec::new();
    let mut open: Option<Period> = None;
    // Whether the open period has had its first activity (a later DNA does not nullify).
    let mut had_activity = false;
    for e in ordered {
        use EventKind as K;
        let start = |date: NaiveDate, code: u8, done: &[Period]| {
            // Never before the previous period ended.
            let floor = done.last().and_then(|p| p.end);
            Period {
                start: floor.map_or(date, |f| date.max(f)),
                start_code: code,
                end: None,
                state: PeriodState::Open,
            }
        };
        let stop = match e.kind {
            K::ReferralReceived | K::UbrnConverted | K::Rebooked | K::NewClock => {
                if open.is_none() {
                    open = Some(start(e.date, 10, &done));
                    had_activity = false;
                }
                None
            }
            K::EndedActiveMonitoring => {
                if open.is_none() {
                    open = Some(start(e.date, 11, &done));
                    had_activity = true;
                }
                None
            }
            K::TransferredIn { original_start } => {
                if open.is_none() {
                    open = Some(start(original_start, 10, &done));
                    had_activity = true;
                }
                None
            }
            K::Attended | K::DecisionToTreat | K::AdmittedNoTreatment => {
                had_activity = true;
                None
            }
            K::Dna {
                first_appointment,
                communicated,
            } => (first_appointment && communicated && !had_activity)
                .then_some(PeriodState::Nullified),
            K::DnaDischarged | K::TransplantListed | K::DecisionNotToTreat => {
                Some(PeriodState::Stopped(StopCode::NotTreated))
            }
            K::ReturnedToPrimaryCare => Some(PeriodState::Stopped(StopCode::NotTreated)),
            K::AdmittedForTreatment | K::Treated => Some(PeriodState::Stopped(StopCode::Treated)),
            K::ActiveMonitoring { by_patient } => Some(PeriodState::Stopped(if by_patient {
                StopCode::ActiveMonitoringPatient
            } else {
                StopCode::ActiveMonitoringClinician
            })),
            K::Declined => Some(PeriodState::Stopped(StopCode::Declined)),
            K::Died => Some(PeriodState::Stopped(StopCode::Died)),
            K::TransferredOut => Some(PeriodState::TransferredOut),
            K::Cancelled { .. } | K::NonRtt(_) => None,
        };
        if let (Some(state), Some(mut p)) = (stop, open) {
            p.close(e.date, state);
            done.push(p);
            open = None;
        }
        if e.kind == K::Died {
            // Nothing after a death counts; close whatever is open (already done above).
            break;
        }
    }
    done.extend(open);
    done
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod rules_tests;
