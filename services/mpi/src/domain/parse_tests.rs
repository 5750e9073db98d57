//! Tests of `parse.rs`.
use super::*;
use crate::domain::parse_inputs::{AddressInput, NameInput};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn valid() -> DemographicsInput {
    DemographicsInput {
        nhs_number: Some("943 476 5919".into()),
        names: vec![NameInput {
            family: "Testpatient".into(),
            given: vec!["Jane".into()],
            ..Default::default()
        }],
        birth_date: Some("1970-01-01".into()),
        administrative_sex: Some("female".into()),
        addresses: vec![AddressInput {
            lines: vec!["1 High Street".into()],
            postcode: Some("ls14ap".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn a_valid_body_parses_and_normalises() {
    let d = valid().parse(today()).unwrap();
    assert_eq!(d.nhs_number.unwrap().as_str(), "9434765919");
    assert_eq!(
        d.addresses[0].postcode.as_ref().unwrap().as_str(),
        "LS1 4AP"
    );
    assert_eq!(d.names[0].r#use, "official");
}

#[test]
fn every_bad_field_is_reported_by_name() {
    let mut i = valid();
    i.nhs_number = Some("9434765918".into());
    i.birth_date = Some("2099-01-01".into());
    i.names[0].family = " ".into();
    let errs = i.parse(today()).unwrap_err();
    let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["nhs_number", "names[0].family", "birth_date"]);
    assert_eq!(errs[0].code, "nhs-number.check-digit");
}

#[test]
fn a_foreign_address_keeps_its_postcode_unparsed() {
    let mut i = valid();
    i.addresses[0].country = Some("FR".into());
    i.addresses[0].postcode = Some("75001".into());
    let d = i.parse(today()).unwrap();
    assert!(d.addresses[0].postcode.is_none());
    assert!(d.addresses[0].lines.contains(&"75001".to_string()));
}
