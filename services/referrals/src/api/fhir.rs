//! FHIR R4 UK Core `ServiceRequest` (a referral): read, search (Bundle) and create, beside the
//! JSON API and with the same rules; `application/fhir+json`, `OperationOutcome` on errors.
//! The UBRN is the identifier `https://fhir.nhs.uk/Id/UBRN`; the e-RS state, the RTT pathway
//! and the specialty travel in Tessera's own extensions and code systems (docs/services/
//! referrals.md lists them).
use super::referrals::{
    parse_referral, parse_search, read_one, receive, search_visible, AttachmentBody, PathwayBody,
    ReferralBody, ReferrerBody,
};
use super::support::{refuse, Caller};
use crate::domain::Priority;
use crate::store::Referral;
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

const FHIR: Flavour = Flavour::Fhir;
pub const UBRN_SYSTEM: &str = "https://fhir.nhs.uk/Id/UBRN";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest";
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

fn fhir(status: StatusCode, v: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/fhir+json")
        .json(v)
}

fn fhir_path(field: &str) -> String {
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

#[utoipa::path(
    tag = "fhir",
    request_body(content = Object, content_type = "application/fhir+json", description = "A ServiceRequest (UK Core)"),
    responses((status = 201, description = "The ServiceRequest as stored", content_type = "application/fhir+json", body = Object))
)]
#[post("/fhir/ServiceRequest")]
pub async fn create(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let invalid = |errs: Vec<FieldError>| {
        ApiError::validation(errs)
            .with_fhir_paths(fhir_path)
            .with_flavour(FHIR)
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = ApiError::bad_request(format!("body: {e}")).with_flavour(FHIR);
            return refuse(&auth, None, err).await;
        }
    };
    let today = Utc::now().date_naive();
    let parsed = from_fhir(&v).and_then(|b| parse_referral(b, &auth.identity.user_id, today));
    let n = match parsed {
        Ok(n) => n,
        Err(errs) => return refuse(&auth, None, invalid(errs)).await,
    };
    let r = receive(&auth, n).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/fhir/ServiceRequest/{}", r.id)))
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .content_type("application/fhir+json")
        .json(to_fhir(&r)))
}

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The referral's id")),
    responses((status = 200, description = "The ServiceRequest", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/ServiceRequest/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = uuid::Uuid::parse_str(path.trim()) else {
        let e = ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such ServiceRequest");
        return refuse(&auth, None, e).await;
    };
    let (r, _) = read_one(&auth, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .content_type("application/fhir+json")
        .json(to_fhir(&r)))
}

/// The most matches a search looks through: the total is exact up to here, and a search
/// that matches more is asked to narrow (no silent truncation).
const MAX_MATCHES: u64 = 1000;

/// Search by `patient`, `identifier` (UBRN), `performer` (team), `_state` (an e-RS state);
/// paged by `_count`/`_offset` with absolute links and the true total (ADR 23).
#[utoipa::path(
    tag = "fhir",
    params(
        ("patient" = Option<String>, Query, description = "Patient/<id> or <id>"),
        ("subject" = Option<String>, Query, description = "As `patient`"),
        ("identifier" = Option<String>, Query, description = "The UBRN"),
        ("performer" = Option<String>, Query, description = "The receiving team"),
        ("_state" = Option<String>, Query, description = "An e-RS state"),
        ("_id" = Option<String>, Query, description = "Only these referrals (comma: any of)"),
        ("_lastUpdated" = Option<String>, Query, description = "With prefixes; repeated values AND"),
        ("_sort" = Option<String>, Query, description = "_lastUpdated (oldest change first) or -_lastUpdated; newest received first by default"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/ServiceRequest")]
pub async fn search(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    let search = match tessera_fhir::Search::parse(
        req.query_string(),
        prefer,
        &[
            "patient",
            "subject",
            "identifier",
            "performer",
            "_state",
            "_id",
            "_lastUpdated",
            "_sort",
        ],
    ) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let mut q: HashMap<String, String> = HashMap::new();
    for (k, v) in &search.params {
        let (key, val) = match k.as_str() {
            "_id" | "_lastUpdated" | "_sort" => continue,
            "patient" | "subject" => (
                "patient_id",
                tessera_fhir::refs::referenced_id("Patient", v)
                    .unwrap_or(v)
                    .to_string(),
            ),
            "identifier" => match v.split_once('|') {
                Some((sys, val)) if sys == UBRN_SYSTEM => ("ubrn", val.to_string()),
                Some(_) => {
                    let e = ApiError::validation(vec![FieldError::new(
                        "identifier",
                        "system",
                        format!("search by {UBRN_SYSTEM}|<ubrn>"),
                    )])
                    .with_flavour(FHIR);
                    return refuse(&auth, None, e).await;
                }
                None => ("ubrn", v.clone()),
            },
            "performer" => ("team", v.clone()),
            _ => ("state", v.clone()),
        };
        q.insert(key.to_string(), val);
    }
    let mut s = match parse_search(&q, MAX_MATCHES) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e.with_flavour(FHIR)).await,
    };
    s.limit = MAX_MATCHES + 1;
    s.ids = search.ids().into_iter().map(str::to_owned).collect();
    let narrowing = search
        .last_updated()
        .and_then(|u| search.sort(&["_lastUpdated"]).map(|o| (u, o)));
    let (updated, order) = match narrowing {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    s.updated = updated;
    let (mut shown, capped) = search_visible(&auth, s).await?;
    // Newest first by default; `_sort` orders by when each referral last changed.
    match order.first() {
        Some((_, false)) => shown.sort_by_key(|r| r.updated_at),
        Some((_, true)) => shown.sort_by_key(|r| std::cmp::Reverse(r.updated_at)),
        None => {}
    }
    if capped {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "search.too-many",
            format!("more than {MAX_MATCHES} referrals match: narrow the search (patient, identifier or _state)"),
        )
        .with_flavour(FHIR);
        return Err(e);
    }
    let base = tessera_fhir::base_url(&req, None);
    let entries: Vec<Value> = shown
        .iter()
        .skip(search.offset)
        .take(search.count)
        .map(|r| {
            tessera_fhir::bundle::matched(&base, "ServiceRequest", &r.id.to_string(), to_fhir(r))
        })
        .collect();
    Ok(fhir(
        StatusCode::OK,
        &tessera_fhir::searchset(&base, "ServiceRequest", &search, shown.len(), entries),
    ))
}

#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera referrals",
    published: "2026-11-26",
    resources: &[tessera_fhir::Resource {
        kind: "ServiceRequest",
        profile: Some(PROFILE),
        interactions: &["read", "search-type", "create"],
        search: &[
            ("patient", "reference"),
            ("subject", "reference"),
            ("identifier", "token"),
            ("performer", "reference"),
            ("_state", "token"),
            ("_id", "token"),
            ("_lastUpdated", "date"),
            ("_sort", "string"),
        ],
        operations: &[],
    }],
};
