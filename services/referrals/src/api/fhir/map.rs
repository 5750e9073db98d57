//! A referral as a UK Core `ServiceRequest`, and a `ServiceRequest` as the JSON API's body:
//! the identifiers, extensions and code systems docs/services/referrals.md lists.
use super::super::bodies::{AttachmentBody, PathwayBody, ReferralBody, ReferrerBody};
use crate::domain::Priority;
use crate::store::Referral;
use serde_json::{json, Value};
use tessera_edge::problem::FieldError;

pub const UBRN_SYSTEM: &str = "https://fhir.nhs.uk/Id/UBRN";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub const PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest";
const STATE_EXT: &str = "https://tessera.nhs.uk/StructureDefinition/referral-state";
const SOURCE_EXT: &str = "https://tessera.nhs.uk/StructureDefinition/referral-source";
const PATHWAY_EXT: &str = "https://tessera.nhs.uk/StructureDefinition/rtt-pathway";
const STATE_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/eRS-ReferralState";
const SPECIALTY_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/main-specialty";
const TF_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/treatment-function";
const TEAM_SYSTEM: &str = "https://tessera.nhs.uk/Id/team";
const USER_SYSTEM: &str = "https://tessera.nhs.uk/Id/user";
const REFERRER_SYSTEM: &str = "https://tessera.nhs.uk/Id/referrer-code";

fn fhir_status(state: &str) -> &'static str {
    match state {
        "AWAITING_TRIAGE" | "ACCEPTED" | "BOOKED" => "active",
        "TRIAGE_RESPONSE" => "on-hold",
        "REJECTED" | "CANCELLED" => "revoked",
        _ => "completed",
    }
}

pub fn to_fhir(r: &Referral) -> Value {
    let mut identifier = Vec::new();
    if let Some(u) = &r.ubrn {
        identifier.push(tessera_fhir::refs::identifier(UBRN_SYSTEM, u));
    }
    let mut ext = vec![
        json!({ "url": STATE_EXT, "valueCoding": { "system": STATE_SYSTEM, "code": r.state } }),
        json!({ "url": SOURCE_EXT, "valueCode": r.source }),
    ];
    if let (Some(ppid), Some(issuer)) = (&r.ppid, &r.ppid_issuer) {
        ext.push(json!({ "url": PATHWAY_EXT, "valueIdentifier": {
            "system": format!("https://tessera.nhs.uk/Id/ppid/{issuer}"), "value": ppid } }));
    }
    let mut performer = vec![
        json!({ "identifier": { "system": TEAM_SYSTEM, "value": r.receiving_team }, "display": r.receiving_service }),
    ];
    if let Some(c) = &r.receiving_clinician {
        performer.push(json!({ "identifier": { "system": USER_SYSTEM, "value": c } }));
    }
    let priority = Priority::parse(&r.priority).map_or("routine", Priority::fhir);
    let attachments: Vec<Value> = r
        .attachments
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| json!({ "reference": x["url"], "display": x["title"], "type": "DocumentReference" }))
                .collect()
        })
        .unwrap_or_default();
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "id": r.id,
        "meta": tessera_fhir::version::meta(r.version, r.updated_at, Some(PROFILE)),
        "extension": ext,
        "identifier": identifier,
        "status": fhir_status(&r.state),
        "intent": "order",
        "category": [
            { "coding": [{ "system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral" }] },
            { "coding": [{ "system": SPECIALTY_SYSTEM, "code": r.specialty }] },
            { "coding": [{ "system": TF_SYSTEM, "code": r.treatment_function }] }
        ],
        "priority": priority,
        "subject": tessera_fhir::refs::reference("Patient", &r.patient_id),
        "authoredOn": r.received_on.to_string(),
        "requester": { "identifier": { "system": REFERRER_SYSTEM, "value": r.referrer_code },
                       "display": r.referrer_org },
        "performer": performer,
    });
    if !attachments.is_empty() {
        v["supportingInfo"] = json!(attachments);
    }
    if let Some(reason) = &r.state_reason {
        v["note"] = json!([{ "text": reason }]);
    }
    tessera_fhir::prune(&mut v);
    v
}

pub fn fhir_path(field: &str) -> String {
    let p = match field {
        "patient_id" => "subject.reference",
        "ubrn" => "identifier",
        "source" => "extension",
        "priority" => "priority",
        "specialty" | "treatment_function" => "category",
        "receiving_team" | "receiving_clinician" | "receiving_service" => "performer",
        "received_on" => "authoredOn",
        f if f.starts_with("referrer") => "requester",
        f if f.starts_with("attachments") => "supportingInfo",
        f if f.starts_with("pathway") => "extension",
        _ => "",
    };
    if p.is_empty() {
        "ServiceRequest".into()
    } else {
        format!("ServiceRequest.{p}")
    }
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn coded(v: &Value, system: &str) -> Option<String> {
    v["category"].as_array()?.iter().find_map(|c| {
        c["coding"]
            .as_array()?
            .iter()
            .find(|x| x["system"] == system)
            .and_then(|x| s(&x["code"]))
    })
}

fn ident(items: &Value, system: &str) -> Option<String> {
    items.as_array()?.iter().find_map(|p| {
        let i = if p["identifier"].is_object() {
            &p["identifier"]
        } else {
            p
        };
        (i["system"] == system).then(|| s(&i["value"])).flatten()
    })
}

/// A `ServiceRequest` to the JSON API's referral, so both are parsed by one set of rules.
pub fn from_fhir(v: &Value) -> Result<ReferralBody, Vec<FieldError>> {
    let mut errs = Vec::new();
    if v["resourceType"] != "ServiceRequest" {
        errs.push(FieldError::new("resourceType", "type", "a ServiceRequest"));
    }
    if v["intent"].as_str().is_some_and(|i| i != "order") {
        errs.push(FieldError::new(
            "intent",
            "code",
            "a referral's intent is order",
        ));
    }
    let patient = v["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .map(str::to_string);
    if patient.is_none() {
        errs.push(FieldError::new(
            "patient_id",
            "required",
            "subject: Patient/<id>",
        ));
    }
    let ubrn = ident(&v["identifier"], UBRN_SYSTEM);
    let source = v["extension"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["url"] == SOURCE_EXT))
        .and_then(|e| s(&e["valueCode"]))
        .unwrap_or_else(|| {
            if ubrn.is_some() {
                "e-rs".into()
            } else {
                "gp".into()
            }
        });
    let priority = match v["priority"].as_str() {
        None => Some(Priority::Routine),
        Some(p) => Priority::from_fhir(p),
    };
    if priority.is_none() {
        errs.push(FieldError::new(
            "priority",
            "code",
            "routine, urgent or asap",
        ));
    }
    let pathway = v["extension"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["url"] == PATHWAY_EXT))
        .and_then(|e| {
            let sys = e["valueIdentifier"]["system"].as_str()?;
            Some(PathwayBody {
                ppid: s(&e["valueIdentifier"]["value"])?,
                issuer: sys.rsplit('/').next()?.to_string(),
                kind: None,
                original_start: None,
            })
        });
    let attachments = v["supportingInfo"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| AttachmentBody {
                    url: s(&x["reference"]).unwrap_or_default(),
                    content_type: "application/fhir+json".into(),
                    title: s(&x["display"]),
                })
                .collect()
        })
        .unwrap_or_default();
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ReferralBody {
        patient_id: patient.unwrap_or_default(),
        source,
        ubrn,
        referrer: ReferrerBody {
            code: ident(&json!([v["requester"]]), REFERRER_SYSTEM).unwrap_or_default(),
            organisation: ident(&json!([v["requester"]]), ODS_SYSTEM)
                .or_else(|| s(&v["requester"]["display"]))
                .unwrap_or_default(),
        },
        priority: priority.map_or("routine", Priority::as_str).to_string(),
        specialty: coded(v, SPECIALTY_SYSTEM).unwrap_or_default(),
        treatment_function: coded(v, TF_SYSTEM).unwrap_or_default(),
        receiving_service: v["performer"]
            .as_array()
            .and_then(|a| a.iter().find_map(|p| s(&p["display"])))
            .unwrap_or_default(),
        receiving_team: ident(&v["performer"], TEAM_SYSTEM).unwrap_or_default(),
        receiving_clinician: ident(&v["performer"], USER_SYSTEM),
        received_on: s(&v["authoredOn"]).map(|d| d.chars().take(10).collect()),
        ubrn_converted_on: None,
        attachments,
        rtt: None,
        pathway,
    })
}
