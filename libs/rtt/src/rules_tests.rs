//! Tests of `rules.rs`: examples per rule, and properties over generated pathways.
use super::*;

mod tests {
    use super::*;
    use crate::{days_waited, week_band};
    use chrono::Duration;
    use EventKind as K;
    use PeriodState as S;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default() + Duration::days(n)
    }

    fn ev(n: i64, kind: EventKind) -> Event {
        Event { date: day(n), kind }
    }

    const FIRST_DNA: EventKind = K::Dna {
        first_appointment: true,
        communicated: true,
    };
    const LATER_DNA: EventKind = K::Dna {
        first_appointment: false,
        communicated: true,
    };

    struct Case {
        name: &'static str,
        events: Vec<Event>,
        /// (start day, end day, state) of each period.
        want: Vec<(i64, Option<i64>, PeriodState)>,
        /// For the last period: (census day, days waited, week band) — or at its stop.
        wait: Option<(i64, i64, i64)>,
    }

    fn case(
        name: &'static str,
        events: Vec<Event>,
        want: Vec<(i64, Option<i64>, PeriodState)>,
        wait: Option<(i64, i64, i64)>,
    ) -> Case {
        Case {
            name,
            events,
            want,
            wait,
        }
    }

    fn treated() -> PeriodState {
        S::Stopped(StopCode::Treated)
    }

    fn not_treated() -> PeriodState {
        S::Stopped(StopCode::NotTreated)
    }

    /// Scenarios from the national rules (NHS_RULES.md §2), each asserting every period's
    /// start, end and state, and where given the weeks waited.
    fn scenarios() -> Vec<Case> {
        vec![
            case("paper referral, open at census", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((40, 40, 5))),
            case("e-RS: the clock starts at UBRN conversion", vec![ev(5, K::UbrnConverted)], vec![(5, None, S::Open)], Some((12, 7, 0))),
            case("weeks waited: 7 days is band 0-1", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((7, 7, 0))),
            case("weeks waited: 8 days is band 1-2", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((8, 8, 1))),
            case("126 days is within 18 weeks", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((126, 126, 17))),
            case("127 days is a breach", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((127, 127, 18))),
            case("a year waited", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((364, 364, 51))),
            case("over 104 weeks", vec![ev(0, K::ReferralReceived)], vec![(0, None, S::Open)], Some((800, 800, 104))),
            case("first definitive treatment in clinic stops it", vec![ev(0, K::ReferralReceived), ev(20, K::Attended), ev(50, K::Treated)], vec![(0, Some(50), treated())], Some((50, 50, 7))),
            case("admitted treatment stops on the admission date", vec![ev(0, K::ReferralReceived), ev(30, K::DecisionToTreat), ev(90, K::AdmittedForTreatment)], vec![(0, Some(90), treated())], Some((90, 90, 12))),
            case("a decision to treat does not stop it", vec![ev(0, K::ReferralReceived), ev(30, K::DecisionToTreat)], vec![(0, None, S::Open)], None),
            case("a diagnostic-only admission does not stop it", vec![ev(0, K::ReferralReceived), ev(40, K::AdmittedNoTreatment)], vec![(0, None, S::Open)], Some((60, 60, 8))),
            case("diagnostic admission then treatment", vec![ev(0, K::ReferralReceived), ev(40, K::AdmittedNoTreatment), ev(70, K::AdmittedForTreatment)], vec![(0, Some(70), treated())], None),
            case("a patient cancellation does not stop it", vec![ev(0, K::ReferralReceived), ev(10, K::Cancelled { by_patient: true })], vec![(0, None, S::Open)], Some((30, 30, 4))),
            case("a hospital cancellation does not stop it", vec![ev(0, K::ReferralReceived), ev(10, K::Cancelled { by_patient: false })], vec![(0, None, S::Open)], None),
            case("cancellations then treatment", vec![ev(0, K::ReferralReceived), ev(10, K::Cancelled { by_patient: true }), ev(20, K::Cancelled { by_patient: false }), ev(60, K::Treated)], vec![(0, Some(60), treated())], None),
            case("first-appointment DNA nullifies", vec![ev(0, K::ReferralReceived), ev(14, FIRST_DNA)], vec![(0, Some(14), S::Nullified)], None),
            case("first-appointment DNA then rebooked by the patient", vec![ev(0, K::ReferralReceived), ev(14, FIRST_DNA), ev(20, K::Rebooked)], vec![(0, Some(14), S::Nullified), (20, None, S::Open)], Some((30, 10, 1))),
            case("first-appointment DNA, rebooked, then treated", vec![ev(0, K::ReferralReceived), ev(14, FIRST_DNA), ev(16, K::Rebooked), ev(80, K::Treated)], vec![(0, Some(14), S::Nullified), (16, Some(80), treated())], Some((80, 64, 9))),
            case("an uncommunicated first appointment's DNA does not stop it", vec![ev(0, K::ReferralReceived), ev(14, K::Dna { first_appointment: true, communicated: false })], vec![(0, None, S::Open)], None),
            case("a later DNA leaves the clock running", vec![ev(0, K::ReferralReceived), ev(14, K::Attended), ev(40, LATER_DNA)], vec![(0, None, S::Open)], Some((60, 60, 8))),
            case("a first-flagged DNA after an attendance does not nullify", vec![ev(0, K::ReferralReceived), ev(14, K::Attended), ev(40, FIRST_DNA)], vec![(0, None, S::Open)], None),
            case("a later DNA and discharge under the DNA policy stops it (34)", vec![ev(0, K::ReferralReceived), ev(14, K::Attended), ev(40, LATER_DNA), ev(41, K::DnaDischarged)], vec![(0, Some(41), not_treated())], None),
            case("active monitoring by the clinician stops it (32)", vec![ev(0, K::ReferralReceived), ev(30, K::ActiveMonitoring { by_patient: false })], vec![(0, Some(30), S::Stopped(StopCode::ActiveMonitoringClinician))], None),
            case("active monitoring by the patient stops it (31)", vec![ev(0, K::ReferralReceived), ev(30, K::ActiveMonitoring { by_patient: true })], vec![(0, Some(30), S::Stopped(StopCode::ActiveMonitoringPatient))], None),
            case("active monitoring then a decision to treat starts a new clock (11)", vec![ev(0, K::ReferralReceived), ev(30, K::ActiveMonitoring { by_patient: false }), ev(120, K::EndedActiveMonitoring)], vec![(0, Some(30), S::Stopped(StopCode::ActiveMonitoringClinician)), (120, None, S::Open)], Some((150, 30, 4))),
            case("active monitoring, new clock, then treatment", vec![ev(0, K::ReferralReceived), ev(30, K::ActiveMonitoring { by_patient: true }), ev(120, K::EndedActiveMonitoring), ev(160, K::AdmittedForTreatment)], vec![(0, Some(30), S::Stopped(StopCode::ActiveMonitoringPatient)), (120, Some(160), treated())], None),
            case("events during active monitoring (91) change nothing", vec![ev(0, K::ReferralReceived), ev(30, K::ActiveMonitoring { by_patient: false }), ev(60, K::NonRtt(91)), ev(90, K::Attended)], vec![(0, Some(30), S::Stopped(StopCode::ActiveMonitoringClinician))], None),
            case("after treatment (90) nothing restarts it", vec![ev(0, K::ReferralReceived), ev(50, K::Treated), ev(70, K::NonRtt(90)), ev(80, K::Attended)], vec![(0, Some(50), treated())], None),
            case("not yet referred (92) is not RTT", vec![ev(0, K::NonRtt(92))], vec![], None),
            case("not applicable (98) is not RTT", vec![ev(0, K::ReferralReceived), ev(5, K::NonRtt(98))], vec![(0, None, S::Open)], None),
            case("decision not to treat stops it (34)", vec![ev(0, K::ReferralReceived), ev(25, K::DecisionNotToTreat)], vec![(0, Some(25), not_treated())], None),
            case("returned to primary care stops it (34)", vec![ev(0, K::ReferralReceived), ev(25, K::ReturnedToPrimaryCare)], vec![(0, Some(25), not_treated())], None),
            case("added to the transplant list stops it (34)", vec![ev(0, K::ReferralReceived), ev(100, K::TransplantListed)], vec![(0, Some(100), not_treated())], None),
            case("patient declined treatment (35)", vec![ev(0, K::ReferralReceived), ev(45, K::Declined)], vec![(0, Some(45), S::Stopped(StopCode::Declined))], None),
            case("patient died (36), nothing after counts", vec![ev(0, K::ReferralReceived), ev(45, K::Died), ev(50, K::ReferralReceived)], vec![(0, Some(45), S::Stopped(StopCode::Died))], None),
            case("transfer out: off this provider's list, not stopped", vec![ev(0, K::ReferralReceived), ev(30, K::TransferredOut)], vec![(0, Some(30), S::TransferredOut)], None),
            case("transfer in keeps the original start date", vec![ev(60, K::TransferredIn { original_start: day(0) })], vec![(0, None, S::Open)], Some((100, 100, 14))),
            case("transfer in, then treated: waited from the original start", vec![ev(60, K::TransferredIn { original_start: day(0) }), ev(130, K::AdmittedForTreatment)], vec![(0, Some(130), treated())], Some((130, 130, 18))),
            case("bilateral: the second side starts a new clock (rule 3)", vec![ev(0, K::ReferralReceived), ev(60, K::AdmittedForTreatment), ev(200, K::NewClock), ev(260, K::AdmittedForTreatment)], vec![(0, Some(60), treated()), (200, Some(260), treated())], None),
            case("a re-referral after discharge starts a new clock", vec![ev(0, K::ReferralReceived), ev(20, K::ReturnedToPrimaryCare), ev(100, K::ReferralReceived)], vec![(0, Some(20), not_treated()), (100, None, S::Open)], None),
            case("a UBRN conversion after the paper receipt does not restart it", vec![ev(0, K::ReferralReceived), ev(3, K::UbrnConverted)], vec![(0, None, S::Open)], Some((10, 10, 1))),
            case("a stop with nothing open changes nothing", vec![ev(5, K::Treated)], vec![], None),
            case("same-day treatment and new clock do not overlap", vec![ev(0, K::ReferralReceived), ev(50, K::Treated), ev(50, K::NewClock)], vec![(0, Some(50), treated()), (50, None, S::Open)], None),
            case("events given out of order are applied by date", vec![ev(50, K::Treated), ev(0, K::ReferralReceived)], vec![(0, Some(50), treated())], None),
            case("a transfer in dated before an earlier period's end starts no earlier than that end", vec![ev(0, K::ReferralReceived), ev(40, K::Treated), ev(60, K::TransferredIn { original_start: day(10) })], vec![(0, Some(40), treated()), (40, None, S::Open)], None),
        ]
    }

    #[test]
    fn the_national_rules_scenario_by_scenario() {
        let all = scenarios();
        assert!(all.len() >= 40, "{} scenarios", all.len());
        for c in &all {
            let got = periods(&c.events);
            let want: Vec<Period> = c
                .want
                .iter()
                .map(|(s, e, st)| Period {
                    start: day(*s),
                    start_code: 0,
                    end: e.map(day),
                    state: *st,
                })
                .collect();
            let strip = |p: &Period| (p.start, p.end, p.state);
            assert_eq!(
                got.iter().map(strip).collect::<Vec<_>>(),
                want.iter().map(strip).collect::<Vec<_>>(),
                "{}",
                c.name
            );
            if let Some((census, days, band)) = c.wait {
                let last = got
                    .last()
                    .unwrap_or_else(|| panic!("{}: no period", c.name));
                let end = last.end.unwrap_or(day(census));
                assert_eq!(end, day(census), "{}: measured at its stop", c.name);
                let n = days_waited(last.start, end);
                assert_eq!((n, week_band(n)), (days, band), "{}", c.name);
            }
        }
    }

    #[test]
    fn start_codes_say_how_a_period_began() {
        let p = periods(&[
            ev(0, K::ReferralReceived),
            ev(30, K::ActiveMonitoring { by_patient: false }),
            ev(90, K::EndedActiveMonitoring),
        ]);
        assert_eq!((p[0].start_code, p[1].start_code), (10, 11));
        assert_eq!(StopCode::FirstAppointmentDna.code(), 33);
        assert_eq!(StopCode::Died.code(), 36);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = EventKind> {
        use EventKind as K;
        prop_oneof![
            Just(K::ReferralReceived),
            Just(K::UbrnConverted),
            Just(K::Attended),
            (any::<bool>(), any::<bool>()).prop_map(|(f, c)| K::Dna {
                first_appointment: f,
                communicated: c
            }),
            Just(K::DnaDischarged),
            Just(K::Rebooked),
            Just(K::DecisionToTreat),
            Just(K::AdmittedForTreatment),
            Just(K::AdmittedNoTreatment),
            Just(K::Treated),
            Just(K::TransplantListed),
            any::<bool>().prop_map(|b| K::ActiveMonitoring { by_patient: b }),
            Just(K::EndedActiveMonitoring),
            Just(K::DecisionNotToTreat),
            Just(K::ReturnedToPrimaryCare),
            Just(K::Declined),
            Just(K::Died),
            any::<bool>().prop_map(|b| K::Cancelled { by_patient: b }),
            Just(K::TransferredOut),
            (0i64..400).prop_map(|d| K::TransferredIn {
                original_start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
                    + chrono::Duration::days(d)
            }),
            Just(K::NewClock),
            prop_oneof![Just(90u8), Just(91), Just(92), Just(98)].prop_map(K::NonRtt),
        ]
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        prop::collection::vec((0i64..400, kind()), 0..40).prop_map(|v| {
            v.into_iter()
                .map(|(d, kind)| Event {
                    date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
                        + chrono::Duration::days(d),
                    kind,
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// For any events: periods never overlap, each ends no earlier than it starts, only
        /// the last may be open, and every stopped period has exactly one stop (one end and
        /// one stop code).
        #[test]
        fn periods_never_overlap_and_each_stop_is_single(evs in events()) {
            let ps = periods(&evs);
            for (i, p) in ps.iter().enumerate() {
                let last = i + 1 == ps.len();
                match p.state {
                    PeriodState::Open => {
                        prop_assert!(last, "an open period that is not the last: {ps:?}");
                        prop_assert!(p.end.is_none());
                    }
                    _ => {
                        let end = p.end;
                        prop_assert!(end.is_some(), "a closed period without its one end: {ps:?}");
                        prop_assert!(end >= Some(p.start));
                    }
                }
                if let Some(next) = ps.get(i + 1) {
                    prop_assert!(p.end.is_some_and(|e| e <= next.start), "overlap: {ps:?}");
                }
            }
        }

        /// Cancellations and non-RTT codes never change the periods.
        #[test]
        fn cancellations_never_stop_a_clock(evs in events(), at in 0i64..400, by_patient in any::<bool>()) {
            let base = periods(&evs);
            let mut more = evs.clone();
            more.push(Event {
                date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default() + chrono::Duration::days(at),
                kind: EventKind::Cancelled { by_patient },
            });
            prop_assert_eq!(periods(&more), base);
        }
    }
}
