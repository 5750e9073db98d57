//! What a caller sends to register or change a patient, before it is parsed: the JSON API's
//! body, and what the FHIR and HL7 adapters build. [`DemographicsInput::parse`] (in `parse`)
//! turns it into [`Demographics`].
use super::Demographics;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NameInput {
    pub family: String,
    pub given: Vec<String>,
    pub prefix: Option<String>,
    pub r#use: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AddressInput {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub r#use: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ContactInput {
    pub system: String,
    pub value: String,
    pub r#use: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LocalNumberInput {
    pub assigner: String,
    pub value: String,
}

/// The JSON API's request body for registering or updating a patient.
#[derive(Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DemographicsInput {
    pub nhs_number: Option<String>,
    pub nhs_number_verification_status: Option<String>,
    pub local_numbers: Vec<LocalNumberInput>,
    pub names: Vec<NameInput>,
    pub birth_date: Option<String>,
    pub administrative_sex: Option<String>,
    pub addresses: Vec<AddressInput>,
    pub telecom: Vec<ContactInput>,
    pub general_practice: Option<String>,
    /// The PDS sensitive (S) flag.
    pub restricted: Option<bool>,
}

impl std::fmt::Debug for DemographicsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemographicsInput(***)")
    }
}

impl From<&Demographics> for DemographicsInput {
    /// What would be sent to record `d` again: a base to change some fields of.
    fn from(d: &Demographics) -> Self {
        Self {
            nhs_number: d.nhs_number.as_ref().map(|n| n.as_str().to_string()),
            nhs_number_verification_status: d
                .nhs_number_verification_status
                .map(|s| s.code().to_string()),
            local_numbers: d
                .local_numbers
                .iter()
                .map(|l| LocalNumberInput {
                    assigner: l.assigner.to_string(),
                    value: l.value.clone(),
                })
                .collect(),
            names: d
                .names
                .iter()
                .map(|n| NameInput {
                    family: n.family.clone(),
                    given: n.given.clone(),
                    prefix: n.prefix.clone(),
                    r#use: Some(n.r#use.clone()),
                })
                .collect(),
            birth_date: Some(d.birth_date.to_string()),
            administrative_sex: Some(d.administrative_sex.as_str().to_string()),
            addresses: d
                .addresses
                .iter()
                .map(|a| AddressInput {
                    lines: a.lines.clone(),
                    city: a.city.clone(),
                    district: a.district.clone(),
                    postcode: a.postcode.as_ref().map(|p| p.as_str().to_string()),
                    country: a.country.clone(),
                    r#use: Some(a.r#use.clone()),
                    period_start: a.period_start.map(|p| p.to_string()),
                    period_end: a.period_end.map(|p| p.to_string()),
                })
                .collect(),
            telecom: d
                .telecom
                .iter()
                .map(|t| ContactInput {
                    system: t.system.clone(),
                    value: t.value.clone(),
                    r#use: t.r#use.clone(),
                })
                .collect(),
            general_practice: d.general_practice.as_ref().map(|g| g.to_string()),
            restricted: Some(d.restricted),
        }
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn demographics_as_input_parse_back_to_themselves() {
        let input: DemographicsInput = serde_json::from_value(serde_json::json!({
            "nhs_number": "9434765919", "nhs_number_verification_status": "01",
            "local_numbers": [{ "assigner": "RXX", "value": "K1" }],
            "names": [{ "family": "Testpatient", "given": ["Jane"], "prefix": "Mrs", "use": "official" }],
            "birth_date": "1970-01-01", "administrative_sex": "female",
            "addresses": [{ "lines": ["1 High St"], "city": "Leeds", "postcode": "LS1 4AP", "use": "home", "period_start": "2020-01-01" }],
            "telecom": [{ "system": "phone", "value": "0113", "use": "home" }],
            "general_practice": "A99999"
        }))
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let d = input.parse(today).unwrap();
        assert!(DemographicsInput::from(&d).parse(today).unwrap() == d);
    }
}
