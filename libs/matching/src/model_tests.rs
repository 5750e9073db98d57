//! Tests of `model.rs`.
use super::*;
use crate::person::{BirthDate, PersonInput};

fn p(given: &str, family: &str, dob: (u16, u8, u8), postcode: &str, nhs: &str) -> Person {
    Person::new(PersonInput {
        given: Some(given),
        family: Some(family),
        birth_date: Some(BirthDate {
            year: dob.0,
            month: dob.1,
            day: dob.2,
        }),
        sex: Some("f"),
        postcode: Some(postcode).filter(|s| !s.is_empty()),
        national_id: Some(nhs).filter(|s| !s.is_empty()),
        ..Default::default()
    })
}

#[test]
fn the_same_person_with_typos_matches_and_strangers_do_not() {
    let m = Model::default();
    let a = p("Jane", "Testpatient", (1970, 1, 2), "LS1 4AP", "");
    let b = p("Jnae", "Testpatient", (1970, 2, 1), "LS1 4AP", "");
    let e = m.explain(&a, &b);
    assert_eq!(e.decision, Decision::Match, "{e:?}");
    assert_eq!(e.fields[2].level, "day-month-swap");
    let c = p("Omar", "Haddad", (1991, 7, 30), "M1 1AE", "");
    assert_eq!(m.explain(&a, &c).decision, Decision::NoMatch);
}

#[test]
fn twins_and_different_nhs_numbers_go_to_review_at_most() {
    let m = Model::default();
    let a = p("Jane", "Testpatient", (1970, 1, 2), "LS1 4AP", "");
    let twin = p("Julia", "Testpatient", (1970, 1, 2), "LS1 4AP", "");
    let e = m.explain(&a, &twin);
    assert_ne!(e.decision, Decision::Match, "{e:?}");
    let x = p("Jane", "Testpatient", (1970, 1, 2), "LS1 4AP", "9434765919");
    let y = p("Jane", "Testpatient", (1970, 1, 2), "LS1 4AP", "9990000018");
    assert_ne!(m.explain(&x, &y).decision, Decision::Match);
}

#[test]
fn every_explanation_adds_up_to_its_score() {
    let m = Model::default();
    let a = p("Jane", "Testpatient", (1970, 1, 2), "LS1 4AP", "9434765919");
    let b = p(
        "Janet",
        "Test-Patient",
        (1970, 1, 3),
        "LS1 4AB",
        "9434765919",
    );
    let e = m.explain(&a, &b);
    let sum: f64 = e.fields.iter().map(|f| f.weight).sum();
    assert!((sum - e.score).abs() < 0.05, "{sum} vs {}", e.score);
}
