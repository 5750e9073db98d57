//! A patient as a UK Core `Patient`, and a `Patient` as the demographics the JSON API takes:
//! NHS number and local numbers as identifiers, the verification status as PDS's extension,
//! an S-flag as `meta.security`.
use crate::domain::{DemographicsInput, FieldError, Patient};
use serde_json::{json, Value};
use tessera_nhs::VerificationStatus;

pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// Local hospital numbers: this prefix plus the assigning trust's ODS code.
pub const LOCAL_NUMBER_SYSTEM: &str = "https://tessera.nhs.uk/Id/local-number/";
pub const PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
pub const FHIR_JSON: &str = tessera_fhir::FHIR_JSON;
/// `meta.security` as PDS uses it: `R` restricted (S-flagged), `U` unrestricted.
const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

pub fn to_fhir(p: &Patient) -> Value {
    let d = &p.demographics;
    let mut identifier = Vec::new();
    if let Some(n) = &d.nhs_number {
        let mut id = json!({ "system": NHS_NUMBER_SYSTEM, "value": n.as_str() });
        if let Some(s) = d.nhs_number_verification_status {
            id["extension"] = json!([{
                "url": VerificationStatus::EXTENSION,
                "valueCodeableConcept": { "coding": [{ "system": VerificationStatus::SYSTEM, "code": s.code(), "display": s.display() }] }
            }]);
        }
        identifier.push(id);
    }
    // Numbers of records merged into this one stay findable, marked old.
    for r in &p.replaces {
        if let Some(n) = r
            .nhs_number
            .as_ref()
            .filter(|n| Some(*n) != d.nhs_number.as_ref())
        {
            identifier
                .push(json!({ "use": "old", "system": NHS_NUMBER_SYSTEM, "value": n.as_str() }));
        }
    }
    for l in &d.local_numbers {
        identifier.push(json!({
            "use": "usual",
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number" }] },
            "system": format!("{LOCAL_NUMBER_SYSTEM}{}", l.assigner),
            "value": l.value,
            "assigner": { "identifier": { "system": ODS_SYSTEM, "value": l.assigner.as_str() } }
        }));
    }
    let name: Vec<Value> = d
        .names
        .iter()
        .map(|n| {
            let mut v = json!({ "use": n.r#use, "family": n.family });
            if !n.given.is_empty() {
                v["given"] = json!(n.given);
            }
            if let Some(px) = &n.prefix {
                v["prefix"] = json!([px]);
            }
            v
        })
        .collect();
    let address: Vec<Value> = d
        .addresses
        .iter()
        .map(|a| {
            let mut v = json!({ "use": a.r#use, "line": a.lines });
            if let Some(c) = &a.city {
                v["city"] = json!(c);
            }
            if let Some(c) = &a.district {
                v["district"] = json!(c);
            }
            if let Some(pc) = &a.postcode {
                v["postalCode"] = json!(pc.as_str());
            }
            if let Some(c) = &a.country {
                v["country"] = json!(c);
            }
            if a.period_start.is_some() || a.period_end.is_some() {
                let mut period = json!({});
                if let Some(s) = a.period_start {
                    period["start"] = json!(s.to_string());
                }
                if let Some(e) = a.period_end {
                    period["end"] = json!(e.to_string());
                }
                v["period"] = period;
            }
            v
        })
        .collect();
    let telecom: Vec<Value> = d
        .telecom
        .iter()
        .map(|t| {
            let mut v = json!({ "system": t.system, "value": t.value });
            if let Some(u) = &t.r#use {
                v["use"] = json!(u);
            }
            v
        })
        .collect();
    let mut out = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "meta": {
            "versionId": p.version.to_string(),
            "lastUpdated": p.updated_at.to_rfc3339(),
            "profile": [PROFILE],
            "security": [if d.restricted {
                json!({ "system": CONFIDENTIALITY_SYSTEM, "code": "R", "display": "restricted" })
            } else {
                json!({ "system": CONFIDENTIALITY_SYSTEM, "code": "U", "display": "unrestricted" })
            }],
        },
        "identifier": identifier,
        "active": p.is_active(),
        "name": name,
        "gender": d.administrative_sex.as_str(),
        "birthDate": d.birth_date.to_string(),
    });
    if !address.is_empty() {
        out["address"] = json!(address);
    }
    if !telecom.is_empty() {
        out["telecom"] = json!(telecom);
    }
    let mut link: Vec<Value> = p
        .merged_into
        .iter()
        .map(|s| json!({ "other": tessera_fhir::refs::reference("Patient", s), "type": "replaced-by" }))
        .collect();
    link.extend(p.replaces.iter().map(
        |r| json!({ "other": tessera_fhir::refs::reference("Patient", r.id), "type": "replaces" }),
    ));
    if !link.is_empty() {
        out["link"] = json!(link);
    }
    if let Some(gp) = &d.general_practice {
        out["generalPractitioner"] = json!([{ "type": "Organization", "identifier": { "system": ODS_SYSTEM, "value": gp.as_str() } }]);
    }
    tessera_fhir::prune(&mut out);
    out
}

fn fe(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// Reads a FHIR Patient into the JSON API's input; structural problems are field errors in
/// the JSON API's terms (mapped back to FHIRPath when reported).
pub fn from_fhir(v: &Value) -> Result<DemographicsInput, Vec<FieldError>> {
    use crate::domain::DemographicsInput as I;
    let mut errors = Vec::new();
    if v.get("resourceType").and_then(Value::as_str) != Some("Patient") {
        return Err(vec![fe(
            "resourceType",
            "resource-type",
            "the resource must be a Patient",
        )]);
    }
    let mut input = I::default();
    for (i, id) in v
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let system = s(id, "system").unwrap_or_default();
        let value = s(id, "value").unwrap_or_default();
        if s(id, "use").as_deref() == Some("old") {
            // Numbers of merged-away records, as a read shows them: not the patient's own.
            continue;
        }
        if system == NHS_NUMBER_SYSTEM {
            input.nhs_number = Some(value);
            let status = id
                .get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|e| s(e, "url").as_deref() == Some(VerificationStatus::EXTENSION))
                .and_then(|e| e.pointer("/valueCodeableConcept/coding/0/code"))
                .and_then(Value::as_str);
            input.nhs_number_verification_status = status.map(str::to_owned);
        } else if let Some(ods) = system.strip_prefix(LOCAL_NUMBER_SYSTEM) {
            input
                .local_numbers
                .push(crate::domain::parse_inputs::LocalNumberInput {
                    assigner: ods.to_string(),
                    value,
                });
        } else {
            errors.push(fe(
                &format!("local_numbers[{i}]"),
                "identifier-system",
                "identifier system must be the NHS number or a Tessera local-number system",
            ));
        }
    }
    for n in v
        .get("name")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        input.names.push(crate::domain::parse_inputs::NameInput {
            family: s(n, "family").unwrap_or_default(),
            given: strs(n.get("given")),
            prefix: strs(n.get("prefix")).into_iter().next(),
            r#use: s(n, "use"),
        });
    }
    input.birth_date = s(v, "birthDate");
    input.administrative_sex = s(v, "gender");
    for a in v
        .get("address")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        input
            .addresses
            .push(crate::domain::parse_inputs::AddressInput {
                lines: strs(a.get("line")),
                city: s(a, "city"),
                district: s(a, "district"),
                postcode: s(a, "postalCode"),
                country: s(a, "country"),
                r#use: s(a, "use"),
                period_start: a
                    .pointer("/period/start")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                period_end: a
                    .pointer("/period/end")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
    }
    for t in v
        .get("telecom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        input
            .telecom
            .push(crate::domain::parse_inputs::ContactInput {
                system: s(t, "system").unwrap_or_default(),
                value: s(t, "value").unwrap_or_default(),
                r#use: s(t, "use"),
            });
    }
    input.general_practice = v
        .pointer("/generalPractitioner/0/identifier/value")
        .and_then(Value::as_str)
        .map(str::to_owned);
    input.restricted = Some(
        v.pointer("/meta/security")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| {
                s(c, "system").as_deref() == Some(CONFIDENTIALITY_SYSTEM)
                    && s(c, "code").as_deref() == Some("R")
            }),
    );
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}
