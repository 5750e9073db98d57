//! FHIR R4 UK Core `ServiceRequest` (a referral): read, search (Bundle) and create, beside the
//! JSON API and with the same rules; `application/fhir+json`, `OperationOutcome` on errors.
//! The UBRN is the identifier `https://fhir.nhs.uk/Id/UBRN`; the e-RS state, the RTT pathway
//! and the specialty travel in Tessera's own extensions and code systems (docs/services/
//! referrals.md lists them).
mod map;

use super::bodies::{parse_referral, parse_search};
use super::support::Caller;
use crate::app::referrals::{read_one, receive, search_visible};
use crate::app::refuse;
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use map::{fhir_path, from_fhir, to_fhir, PROFILE, UBRN_SYSTEM};
use serde_json::Value;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

const FHIR: Flavour = Flavour::Fhir;

fn fhir(status: StatusCode, v: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/fhir+json")
        .json(v)
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
        let e = ApiError::new(tessera_edge::codes::NOT_FOUND, "no such ServiceRequest");
        return refuse(&auth, None, e).await;
    };
    let (r, _) = read_one(&auth, id.into()).await?;
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
        let e = ApiError::new(crate::api::errors::SEARCH_TOO_MANY,
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
