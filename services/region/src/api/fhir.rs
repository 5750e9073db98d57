//! The summary as FHIR R4: `GET /fhir/Patient/{id}/$everything` answers a searchset Bundle,
//! paged with `_count` and `_offset`, of each trust's `Patient`, `ServiceRequest`
//! (referrals, the RTT clock in a note), `Appointment`, `Encounter` and `DocumentReference`,
//! each tagged with the ODS code of the trust it came from and its `meta.lastUpdated` (its
//! freshness here); every withheld item is an issue of one `OperationOutcome` entry (search
//! mode `outcome`), so nothing withheld is silently absent.
use super::{patient_id, Caller};
use crate::app::{refuse, summary as app};
use crate::domain::{Admission, Appointment, Demographics, Document, Referral, Summary};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use tessera_edge::problem::{ApiError, Flavour};
use tessera_fhir::bundle::entry;

const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";

#[utoipa::path(tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object)))]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera regional care record",
    published: "2026-12-07",
    resources: &[tessera_fhir::Resource {
        kind: "Patient",
        profile: None,
        interactions: &[],
        search: &[],
        operations: &[(
            "everything",
            "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        )],
    }],
};

#[utoipa::path(tag = "fhir",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient, by the viewer's own trust's id"),
        ("_count" = Option<u32>, Query, description = "Entries per page (default 50, at most 500)"),
        ("_offset" = Option<u32>, Query, description = "Entries skipped")
    ),
    responses(
        (status = 200, description = "A searchset Bundle of the patient's regional record, withheld items in an OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 403, description = "OperationOutcome: no legitimate relationship in the viewer's trust"),
        (status = 404, description = "OperationOutcome: no such patient in the viewer's trust")
    ))]
#[get("/fhir/Patient/{id}/$everything")]
pub async fn everything(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let search = match tessera_fhir::respond::search(&req, &[]) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let patient = match patient_id(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e.with_flavour(Flavour::Fhir)).await,
    };
    let s = app::summary(&auth, patient).await?;
    let base = tessera_fhir::base_url(&req, None);
    let all = entries(&base, &s);
    let total = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(search.offset)
        .take(search.count)
        .collect();
    let path = format!("Patient/{}/$everything", s.patient_id);
    Ok(tessera_fhir::respond::ok(&tessera_fhir::searchset(
        &base, &path, &search, total, page,
    )))
}

/// Every entry of the summary, the withheld outcome last.
fn entries(base: &str, s: &Summary) -> Vec<Value> {
    let matched = json!({ "mode": "match" });
    let mut out = Vec::new();
    let mut push = |kind: &str, id: String, resource: Value| {
        out.push(entry(base, kind, &id, resource, matched.clone()));
    };
    for d in &s.demographics {
        push("Patient", patient_ref(&d.trust, &d.patient_id), patient(d));
    }
    for r in &s.referrals {
        push("ServiceRequest", r.id.to_string(), service_request(r));
    }
    for a in &s.appointments {
        push("Appointment", a.id.to_string(), appointment(a));
    }
    for a in &s.admissions {
        push("Encounter", a.id.to_string(), encounter(a));
    }
    for d in &s.documents {
        push("DocumentReference", d.id.to_string(), document(d));
    }
    if !s.withheld.is_empty() {
        let issues: Vec<Value> = s
            .withheld
            .iter()
            .map(|w| {
                json!({
                    "severity": "information",
                    "code": "suppressed",
                    "details": { "text": format!("{} withheld from {} ({})", w.kind, w.trust, w.reason) },
                })
            })
            .collect();
        let id = format!("withheld-{}", s.patient_id);
        let outcome = json!({ "resourceType": "OperationOutcome", "id": id, "issue": issues });
        out.push(entry(
            base,
            "OperationOutcome",
            &id,
            outcome,
            json!({ "mode": "outcome" }),
        ));
    }
    out
}

/// A Patient resource's id: the trust's code and its own id (one person, one per trust).
fn patient_ref(trust: &str, id: &str) -> String {
    format!("{trust}-{id}")
}

fn meta(trust: &str, at: &chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "lastUpdated": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "tag": [{ "system": ODS, "code": trust }],
    })
}

fn subject(trust: &str, patient: &str) -> Value {
    json!({ "reference": format!("Patient/{}", patient_ref(trust, patient)) })
}

fn time(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn patient(d: &Demographics) -> Value {
    let gender = match d.sex.as_deref() {
        Some(g @ ("male" | "female" | "other" | "unknown")) => Some(g),
        _ => None,
    };
    json!({
        "resourceType": "Patient",
        "id": patient_ref(&d.trust, &d.patient_id),
        "meta": meta(&d.trust, &d.as_of),
        "identifier": d.nhs_number.as_ref().map(|n| vec![json!({ "system": NHS_NUMBER, "value": n })]),
        "name": [{ "family": d.family, "given": d.given.as_ref().map(|g| g.split(' ').collect::<Vec<_>>()) }],
        "gender": gender,
        "birthDate": d.birth_date.map(|b| b.to_string()),
        "address": d.address.as_ref().map(|a| vec![json!({ "line": [a], "postalCode": d.postcode })]),
        "generalPractitioner": d.gp_practice.as_ref().map(|g| vec![json!({ "identifier": { "system": ODS, "value": g } })]),
        "managingOrganization": { "identifier": { "system": ODS, "value": d.trust } },
    })
}

fn service_request(r: &Referral) -> Value {
    let status = match r.state.as_str() {
        "COMPLETED" | "DISCHARGED" => "completed",
        "CANCELLED" | "REJECTED" => "revoked",
        _ => "active",
    };
    let priority = match r.priority.as_deref() {
        Some(p @ ("routine" | "urgent" | "asap" | "stat")) => Some(p),
        Some("two-week-wait") => Some("asap"),
        _ => None,
    };
    let clock = r.rtt.as_ref().map(|t| {
        let weeks = t.weeks_waited.map(|w| format!(", {w} weeks waited")).unwrap_or_default();
        let since = t.clock_start.map(|d| format!(" since {d}")).unwrap_or_default();
        json!({ "text": format!("RTT clock {}{since}{weeks}{}", t.clock, if t.breach { " (beyond 18 weeks)" } else { "" }) })
    });
    json!({
        "resourceType": "ServiceRequest",
        "id": r.id.to_string(),
        "meta": meta(&r.trust, &r.as_of),
        "identifier": r.ubrn.as_ref().map(|u| vec![json!({ "system": "https://fhir.nhs.uk/Id/UBRN", "value": u })]),
        "status": status,
        "intent": "order",
        "priority": priority,
        "code": r.specialty.as_ref().map(|s| json!({ "text": s })),
        "subject": subject(&r.trust, &r.patient_id),
        "authoredOn": r.received_on.map(|d| d.to_string()),
        "performer": r.team.as_ref().map(|t| vec![json!({ "display": t })]),
        "note": clock.map(|c| vec![c]),
    })
}

fn appointment(a: &Appointment) -> Value {
    let status = match a.status.as_str() {
        "booked" => "booked",
        "attended" | "not-seen" => "fulfilled",
        "did-not-attend" => "noshow",
        s if s.starts_with("cancelled") => "cancelled",
        _ => "booked",
    };
    // Start and end together, or neither (FHIR app-3).
    let (start, end) = match (time(&a.starts_at), time(&a.ends_at)) {
        (Some(s), Some(e)) => (Some(s), Some(e)),
        _ => (None, None),
    };
    json!({
        "resourceType": "Appointment",
        "id": a.id.to_string(),
        "meta": meta(&a.trust, &a.as_of),
        "status": status,
        "serviceType": a.treatment_function.as_ref().map(|t| vec![json!({ "text": t })]),
        "start": start,
        "end": end,
        "participant": [{ "actor": subject(&a.trust, &a.patient_id), "status": "accepted" }],
    })
}

fn encounter(a: &Admission) -> Value {
    json!({
        "resourceType": "Encounter",
        "id": a.id.to_string(),
        "meta": meta(&a.trust, &a.as_of),
        "status": a.status,
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter" },
        "subject": subject(&a.trust, &a.patient_id),
        "period": { "start": time(&a.admitted_at), "end": time(&a.discharged_at) },
        "serviceProvider": { "identifier": { "system": ODS, "value": a.trust } },
    })
}

fn document(d: &Document) -> Value {
    let (status, doc_status) = match d.status.as_str() {
        "entered-in-error" => ("entered-in-error", None),
        "draft" => ("current", Some("preliminary")),
        "amended" => ("current", Some("amended")),
        _ => ("current", Some("final")),
    };
    json!({
        "resourceType": "DocumentReference",
        "id": d.id.to_string(),
        "meta": meta(&d.trust, &d.as_of),
        "status": status,
        "docStatus": doc_status,
        "type": { "coding": [{ "system": "http://snomed.info/sct", "code": d.type_code }] },
        "subject": subject(&d.trust, &d.patient_id),
        "date": d.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "author": [{ "identifier": { "value": d.author } }],
        "description": d.title,
        "custodian": { "identifier": { "system": ODS, "value": d.trust } },
        // The content stays with the trust's clinical documentation service.
        "content": [{ "attachment": { "title": d.title } }],
    })
}
