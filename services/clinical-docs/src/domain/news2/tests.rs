//! The RCP chart, row by row: both edges of every band of every parameter (both SpO2 scales,
//! on air and on oxygen), then the aggregate and the risk bands.
#![allow(clippy::unwrap_used)]
use super::*;

/// All zeros: respiration 16, SpO2 97 on scale 1 on air, systolic 120, pulse 70, alert, 37.0.
fn normal() -> Observations {
    Observations {
        respiration_rate: 16,
        spo2: 97,
        scale: SpO2Scale::One,
        on_oxygen: false,
        systolic_bp: 120,
        pulse: 70,
        consciousness: Consciousness::Alert,
        temperature_tenths: 370,
    }
}

#[test]
fn the_normal_set_scores_nothing() {
    let s = score(&normal());
    assert_eq!((s.aggregate, s.risk), (0, "low"));
}

#[test]
fn respiration_rate_bands() {
    for (rate, want) in [
        (0, 3),
        (8, 3),
        (9, 1),
        (11, 1),
        (12, 0),
        (20, 0),
        (21, 2),
        (24, 2),
        (25, 3),
        (60, 3),
    ] {
        let s = score(&Observations {
            respiration_rate: rate,
            ..normal()
        });
        assert_eq!(s.respiration_rate, want, "respiration {rate}");
        assert_eq!(s.aggregate, want);
    }
}

#[test]
fn spo2_scale_1_bands_on_air() {
    for (sat, want) in [
        (70, 3),
        (91, 3),
        (92, 2),
        (93, 2),
        (94, 1),
        (95, 1),
        (96, 0),
        (100, 0),
    ] {
        let s = score(&Observations {
            spo2: sat,
            ..normal()
        });
        assert_eq!(s.spo2, want, "scale 1 SpO2 {sat}");
    }
}

#[test]
fn spo2_scale_1_ignores_oxygen_for_the_saturation_but_scores_the_oxygen() {
    let s = score(&Observations {
        spo2: 97,
        on_oxygen: true,
        ..normal()
    });
    assert_eq!((s.spo2, s.air_or_oxygen, s.aggregate), (0, 2, 2));
}

#[test]
fn spo2_scale_2_bands() {
    let two = |sat, oxygen| {
        score(&Observations {
            spo2: sat,
            scale: SpO2Scale::Two,
            on_oxygen: oxygen,
            ..normal()
        })
        .spo2
    };
    for oxygen in [false, true] {
        for (sat, want) in [
            (70, 3),
            (83, 3),
            (84, 2),
            (85, 2),
            (86, 1),
            (87, 1),
            (88, 0),
            (92, 0),
        ] {
            assert_eq!(two(sat, oxygen), want, "scale 2 SpO2 {sat} oxygen {oxygen}");
        }
    }
    // 93 or more on air scores 0; on oxygen it scores 1, 2, 3.
    for sat in [93, 94, 95, 96, 97, 100] {
        assert_eq!(two(sat, false), 0, "scale 2 SpO2 {sat} on air");
    }
    for (sat, want) in [(93, 1), (94, 1), (95, 2), (96, 2), (97, 3), (100, 3)] {
        assert_eq!(two(sat, true), want, "scale 2 SpO2 {sat} on oxygen");
    }
}

#[test]
fn air_or_oxygen() {
    assert_eq!(score(&normal()).air_or_oxygen, 0);
    assert_eq!(
        score(&Observations {
            on_oxygen: true,
            ..normal()
        })
        .air_or_oxygen,
        2
    );
}

#[test]
fn systolic_blood_pressure_bands() {
    for (bp, want) in [
        (50, 3),
        (90, 3),
        (91, 2),
        (100, 2),
        (101, 1),
        (110, 1),
        (111, 0),
        (219, 0),
        (220, 3),
        (260, 3),
    ] {
        assert_eq!(
            score(&Observations {
                systolic_bp: bp,
                ..normal()
            })
            .systolic_bp,
            want,
            "systolic {bp}"
        );
    }
}

#[test]
fn pulse_bands() {
    for (p, want) in [
        (20, 3),
        (40, 3),
        (41, 1),
        (50, 1),
        (51, 0),
        (90, 0),
        (91, 1),
        (110, 1),
        (111, 2),
        (130, 2),
        (131, 3),
        (200, 3),
    ] {
        assert_eq!(
            score(&Observations {
                pulse: p,
                ..normal()
            })
            .pulse,
            want,
            "pulse {p}"
        );
    }
}

#[test]
fn consciousness_alert_or_cvpu() {
    for (c, want) in [
        ("alert", 0),
        ("new-confusion", 3),
        ("voice", 3),
        ("pain", 3),
        ("unresponsive", 3),
    ] {
        let o = Observations {
            consciousness: Consciousness::parse(c).unwrap(),
            ..normal()
        };
        assert_eq!(score(&o).consciousness, want, "{c}");
    }
    assert!(Consciousness::parse("drowsy").is_err());
}

#[test]
fn temperature_bands() {
    for (t, want) in [
        (30.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (42.0, 2),
    ] {
        let o = Observations {
            temperature_tenths: tenths("temperature", t).unwrap(),
            ..normal()
        };
        assert_eq!(score(&o).temperature, want, "temperature {t}");
    }
}

#[test]
fn risk_bands_from_the_aggregate_and_a_single_red_score() {
    // 4, no single 3: low. Respiration 21 (2) + oxygen (2).
    let s = score(&Observations {
        respiration_rate: 21,
        on_oxygen: true,
        ..normal()
    });
    assert_eq!((s.aggregate, s.risk), (4, "low"));
    // 3 from one parameter alone: low-medium.
    let s = score(&Observations {
        consciousness: Consciousness::Voice,
        ..normal()
    });
    assert_eq!((s.aggregate, s.risk), (3, "low-medium"));
    // 5 and 6: medium, with or without a single 3.
    let s = score(&Observations {
        pulse: 111,
        respiration_rate: 21,
        spo2: 95,
        ..normal()
    });
    assert_eq!((s.aggregate, s.risk), (5, "medium"));
    let s = score(&Observations {
        systolic_bp: 90,
        respiration_rate: 21,
        spo2: 95,
        ..normal()
    });
    assert_eq!((s.aggregate, s.risk), (6, "medium"));
    // 7 and over: high.
    let s = score(&Observations {
        systolic_bp: 90,
        respiration_rate: 21,
        pulse: 111,
        ..normal()
    });
    assert_eq!(
        (s.aggregate, s.risk, s.response),
        (7, "high", "emergency response")
    );
}

#[test]
fn the_worst_set_scores_twenty() {
    let o = Observations {
        respiration_rate: 30,
        spo2: 85,
        scale: SpO2Scale::One,
        on_oxygen: true,
        systolic_bp: 80,
        pulse: 140,
        consciousness: Consciousness::Unresponsive,
        temperature_tenths: 340,
    };
    let s = score(&o);
    assert_eq!((s.aggregate, s.risk), (20, "high"));
}

#[test]
fn readings_outside_physiology_or_precision_are_refused() {
    assert!(whole("pulse", 70.5, 0, 300).is_err());
    assert!(whole("pulse", 301.0, 0, 300).is_err());
    assert!(whole("pulse", f64::NAN, 0, 300).is_err());
    assert!(tenths("temperature", 36.55).is_err());
    assert!(tenths("temperature", 50.0).is_err());
    assert_eq!(tenths("temperature", 36.5).unwrap(), 365);
}
