//! Spells as FHIR R4 UK Core `Encounter`s, wards and beds as `Location`s.
use crate::store::{BoardBed, SpellView, Ward};
use serde_json::{json, Value};
use tessera_fhir::refs;

pub const ENCOUNTER_PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter";
pub const LOCATION_PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Location";
const SPELL_NUMBER: &str = "https://tessera.nhs.uk/Id/hospital-provider-spell-number";
const WARD_CODE: &str = "https://tessera.nhs.uk/Id/ward-code";
const BED_CODE: &str = "https://tessera.nhs.uk/Id/bed-code";

fn coded(system: &str, code: Option<&str>) -> Value {
    match code {
        Some(c) => json!({ "coding": [{ "system": system, "code": c }] }),
        None => Value::Null,
    }
}

fn extension(url: &str, system: &str, code: Option<&str>) -> Value {
    match code {
        Some(c) => {
            json!({ "url": url, "valueCodeableConcept": { "coding": [{ "system": system, "code": c }] } })
        }
        None => Value::Null,
    }
}

/// The spell: in progress, finished or cancelled; its consultants, its bed history.
pub fn encounter(v: &SpellView) -> Value {
    let s = &v.spell;
    let status = match s.status.as_str() {
        "admitted" => "in-progress",
        "discharged" => "finished",
        _ => "cancelled",
    };
    let (class, display) = if s.intended_management == "2" {
        ("SS", "short stay")
    } else {
        ("IMP", "inpatient encounter")
    };
    let participants: Vec<Value> = v
        .episodes
        .iter()
        .map(|e| {
            json!({
                "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                         "code": "ATND", "display": "attender" }] }],
                "period": { "start": e.started_at, "end": e.ended_at },
                "individual": { "identifier": { "value": e.consultant }, "display": e.consultant },
            })
        })
        .collect();
    let locations: Vec<Value> = v
        .stays
        .iter()
        .map(|st| {
            json!({
                "location": { "reference": format!("Location/{}", st.bed_id),
                              "display": format!("{} {}", st.ward_code, st.bed_code) },
                "status": if st.to_at.is_some() { "completed" } else { "active" },
                "period": { "start": st.from_at, "end": st.to_at },
            })
        })
        .collect();
    let mut e = json!({
        "resourceType": "Encounter",
        "id": s.id.to_string(),
        "meta": tessera_fhir::version::meta(s.version, s.updated_at, Some(ENCOUNTER_PROFILE)),
        "extension": [
            extension("https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod",
                      "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland", Some(&s.admission_method)),
            extension("https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod",
                      "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland", s.discharge_method.as_deref()),
        ],
        "identifier": [refs::identifier(SPELL_NUMBER, &s.spell_number.to_string())],
        "status": status,
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class, "display": display },
        "subject": refs::reference("Patient", &s.patient_id),
        "participant": participants,
        "period": { "start": s.admitted_at, "end": s.discharged_at },
        "hospitalization": {
            "admitSource": coded("https://fhir.hl7.org.uk/CodeSystem/UKCore-SourceOfAdmissionEngland", Some(&s.admission_source)),
            "dischargeDisposition": coded("https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland",
                                           s.discharge_destination.as_deref()),
        },
        "location": locations,
    });
    tessera_fhir::prune(&mut e);
    e
}

/// A ward: a `Location` of physical type `wa`.
pub fn ward(w: &Ward) -> Value {
    let mut l = json!({
        "resourceType": "Location",
        "id": w.id.to_string(),
        "meta": { "profile": [LOCATION_PROFILE] },
        "identifier": [refs::identifier(WARD_CODE, &w.code)],
        "status": "active",
        "name": w.name,
        "description": format!("{} ({} beds, {} occupied)", w.site, w.beds, w.occupied),
        "mode": "instance",
        "physicalType": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                                        "code": "wa", "display": "Ward" }] },
    });
    tessera_fhir::prune(&mut l);
    l
}

/// A bed: a `Location` of physical type `bd`, part of its ward, with the HL7 v2 bed status
/// (table 0116) as its operational status: O occupied, U unoccupied, C closed, H housekeeping.
pub fn bed(b: &BoardBed, ward_code: &str) -> Value {
    let (code, display) = match b.state.as_str() {
        "occupied" => ("O", "Occupied"),
        "closed" => ("C", "Closed"),
        "cleaning" => ("H", "Housekeeping"),
        _ => ("U", "Unoccupied"),
    };
    let mut l = json!({
        "resourceType": "Location",
        "id": b.id.to_string(),
        "meta": { "profile": [LOCATION_PROFILE] },
        "identifier": [refs::identifier(BED_CODE, &format!("{ward_code}-{}", b.code))],
        "status": if b.state == "closed" { "suspended" } else { "active" },
        "operationalStatus": { "system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": code, "display": display },
        "name": format!("{ward_code} {}", b.code),
        "mode": "instance",
        "physicalType": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                                        "code": "bd", "display": "Bed" }] },
        "partOf": refs::reference("Location", b.ward_id),
    });
    tessera_fhir::prune(&mut l);
    l
}
