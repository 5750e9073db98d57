//! FHIR R4 UK Core over the same use cases as the JSON API (ADR 23): `DocumentReference`
//! (read, search by patient, type, date and status, `_history`), `Composition` (a letter or
//! summary itself), `Questionnaire` (a template, each saved version a `versionId`),
//! `QuestionnaireResponse` (an assessment) and `Observation` (its NEWS2 score) — each with
//! read, `_history` and vread. `application/fhir+json`, `OperationOutcome` on errors.
mod forms;
mod map;
mod questionnaire;

pub use questionnaire::{questionnaire_history, read_questionnaire, vread_questionnaire};

use super::Caller;
use crate::app::documents::{self as docs, Whole};
use crate::app::refuse;
use crate::domain::{DocType, DocumentId};
use actix_web::{get, web, HttpRequest, HttpResponse};
use map::At;
use serde_json::Value;
use tessera_edge::problem::{ApiError, Flavour};
use tessera_fhir::refs;
use tessera_fhir::respond::{invalid, not_found, ok, search};
use tessera_fhir::version::{history, Version};
use uuid::Uuid;

const FHIR: Flavour = Flavour::Fhir;

/// How a document shows as one resource type at one version (`None`: it is not one).
type Mapper = fn(&str, &At<'_>) -> Option<Value>;

fn document_reference(base: &str, at: &At<'_>) -> Option<Value> {
    Some(map::document_reference(base, at))
}

fn composition(_: &str, at: &At<'_>) -> Option<Value> {
    map::composition(at)
}

fn observation(_: &str, at: &At<'_>) -> Option<Value> {
    forms::news2_observation(at)
}

/// The document behind `id`, or the `kind`'s 404.
async fn whole(caller: Caller, kind: &str, id: &str) -> Result<Whole, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return refuse(&auth, None, not_found(kind)).await;
    };
    match docs::whole(&auth, DocumentId::from(id)).await {
        Ok(w) => Ok(w),
        Err(e) if e.status.as_u16() == 404 => Err(not_found(kind)),
        Err(e) => Err(e.with_flavour(FHIR)),
    }
}

pub(super) fn pruned(mut v: Value) -> HttpResponse {
    tessera_fhir::prune::prune(&mut v);
    ok(&v)
}

/// Read (`vid` absent) or vread of `kind`.
async fn instance(
    caller: Caller,
    req: &HttpRequest,
    kind: &str,
    id: &str,
    vid: Option<&str>,
    to: Mapper,
) -> Result<HttpResponse, ApiError> {
    let n = match vid.map(str::parse::<i32>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Err(not_found(kind)),
    };
    let w = whole(caller, kind, id).await?;
    let base = tessera_fhir::base_url(req, None);
    let found = At::of(&w, n).and_then(|at| to(&base, &at));
    found.map(pruned).ok_or_else(|| not_found(kind))
}

/// Every version of `kind`, newest first.
async fn versions(
    caller: Caller,
    req: &HttpRequest,
    kind: &str,
    id: &str,
    to: Mapper,
) -> Result<HttpResponse, ApiError> {
    let w = whole(caller, kind, id).await?;
    let base = tessera_fhir::base_url(req, None);
    let all: Vec<Version> = w
        .versions
        .iter()
        .rev()
        .filter_map(|v| {
            let at = At {
                whole: &w,
                version: v,
            };
            to(&base, &at).map(|resource| Version {
                version: i64::from(v.version),
                recorded: v.recorded_at,
                resource,
            })
        })
        .collect();
    if all.is_empty() {
        return Err(not_found(kind));
    }
    Ok(ok(&history(&base, kind, id, all)))
}

macro_rules! versioned {
    ($kind:literal, $to:expr, $read:ident = $rp:literal, $vread:ident = $vp:literal, $history:ident = $hp:literal) => {
        #[utoipa::path(tag = "fhir", params(("id" = String, Path)),
            responses((status = 200, description = concat!("The ", $kind), content_type = "application/fhir+json", body = Object)))]
        #[get($rp)]
        pub async fn $read(caller: Caller, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
            instance(caller, &req, $kind, &path, None, $to).await
        }

        #[utoipa::path(tag = "fhir", params(("id" = String, Path), ("vid" = String, Path)),
            responses((status = 200, description = concat!("The ", $kind, " as it was at that version"), content_type = "application/fhir+json", body = Object)))]
        #[get($vp)]
        pub async fn $vread(caller: Caller, req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
            instance(caller, &req, $kind, &path.0, Some(&path.1), $to).await
        }

        #[utoipa::path(tag = "fhir", params(("id" = String, Path)),
            responses((status = 200, description = "A history Bundle, newest first", content_type = "application/fhir+json", body = Object)))]
        #[get($hp)]
        pub async fn $history(caller: Caller, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
            versions(caller, &req, $kind, &path, $to).await
        }
    };
}

versioned!(
    "DocumentReference",
    document_reference,
    read_reference = "/fhir/DocumentReference/{id}",
    vread_reference = "/fhir/DocumentReference/{id}/_history/{vid}",
    reference_history = "/fhir/DocumentReference/{id}/_history"
);
versioned!(
    "Composition",
    composition,
    read_composition = "/fhir/Composition/{id}",
    vread_composition = "/fhir/Composition/{id}/_history/{vid}",
    composition_history = "/fhir/Composition/{id}/_history"
);
versioned!(
    "QuestionnaireResponse",
    forms::questionnaire_response,
    read_response = "/fhir/QuestionnaireResponse/{id}",
    vread_response = "/fhir/QuestionnaireResponse/{id}/_history/{vid}",
    response_history = "/fhir/QuestionnaireResponse/{id}/_history"
);
versioned!(
    "Observation",
    observation,
    read_observation = "/fhir/Observation/{id}",
    vread_observation = "/fhir/Observation/{id}/_history/{vid}",
    observation_history = "/fhir/Observation/{id}/_history"
);

/// A patient's documents as `DocumentReference`s, newest first: by `type` (SNOMED CT), `date`
/// (created; `ge`/`le`/`gt`/`lt`/`eq` and a day, month or year) and `status` (`current`,
/// `entered-in-error`). `patient` is required.
#[utoipa::path(
    tag = "fhir",
    params(
        ("patient" = String, Query, description = "Patient/<id> or <id>"),
        ("type" = Option<String>, Query, description = "http://snomed.info/sct|<code> or <code>"),
        ("date" = Option<String>, Query, description = "e.g. ge2026-12-01"),
        ("status" = Option<String>, Query, description = "current, entered-in-error"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/DocumentReference")]
pub async fn search_references(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let parsed = search(&req, &["patient", "type", "date", "status"]).and_then(|s| {
        let mut f = crate::store::search::Filter {
            limit: s.count.clamp(1, 500) as u64,
            offset: s.offset as u64,
            ..Default::default()
        };
        f.patient_id = s
            .get("patient")
            .and_then(|v| refs::referenced_id("Patient", v))
            .and_then(tessera_patients::PatientId::parse)
            .ok_or_else(|| {
                invalid(
                    "patient",
                    "required",
                    "Patient/<id> (a UUID): a patient's documents",
                )
            })?
            .to_string();
        if let Some(t) = s.get("type") {
            let (system, code) = refs::token(t);
            if system.is_some_and(|sys| sys != "http://snomed.info/sct") {
                return Err(invalid(
                    "type",
                    "system",
                    "SNOMED CT (http://snomed.info/sct)",
                ));
            }
            f.type_code = Some(
                DocType::parse(code, code)
                    .map_err(|_| invalid("type", "code", "a SNOMED CT concept id"))?
                    .code
                    .to_string(),
            );
        }
        for d in s.all("date") {
            let p = tessera_fhir::date::DateParam::parse(d)
                .ok_or_else(|| invalid("date", "format", "a prefix and a date"))?;
            let (from, to) = p
                .bounds()
                .ok_or_else(|| invalid("date", "prefix", "eq, gt, ge, lt, le, sa, eb or ap"))?;
            if let Some((day, inclusive)) = from {
                let day = if inclusive { Some(day) } else { day.succ_opt() };
                f.from = day.map(|d| d.to_string());
            }
            if let Some((day, inclusive)) = to {
                let day = if inclusive { day.succ_opt() } else { Some(day) };
                f.to = day.map(|d| d.to_string());
            }
        }
        f.status = match s.get("status") {
            None => None,
            Some("entered-in-error") => Some("entered-in-error".into()),
            Some("current") => None,
            Some(_) => return Err(invalid("status", "code", "current or entered-in-error")),
        };
        let current_only = s.get("status") == Some("current");
        Ok((s, f, current_only))
    });
    let (s, f, current_only) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (rows, total) = docs::search(&auth, f)
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    let base = tessera_fhir::base_url(&req, None);
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| !current_only || r.status != "entered-in-error")
        .collect();
    let entries = rows
        .iter()
        .map(|r| {
            tessera_fhir::bundle::matched(
                &base,
                "DocumentReference",
                &r.id.to_string(),
                map::summary_reference(&base, r),
            )
        })
        .collect();
    let total = if current_only {
        rows.len() as i64
    } else {
        total
    };
    Ok(ok(&tessera_fhir::searchset(
        &base,
        "DocumentReference",
        &s,
        total as usize,
        entries,
    )))
}

#[utoipa::path(tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object)))]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const VERSIONED: &[&str] = &["read", "vread", "history-instance"];

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera clinical documentation",
    published: "2026-12-07",
    resources: &[
        tessera_fhir::Resource {
            kind: "DocumentReference",
            profile: Some(map::DOCUMENT_REFERENCE),
            interactions: &["read", "vread", "history-instance", "search-type"],
            search: &[
                ("patient", "reference"),
                ("type", "token"),
                ("date", "date"),
                ("status", "token"),
            ],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Composition",
            profile: Some(map::COMPOSITION),
            interactions: VERSIONED,
            search: &[],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Questionnaire",
            profile: None,
            interactions: VERSIONED,
            search: &[],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "QuestionnaireResponse",
            profile: None,
            interactions: VERSIONED,
            search: &[],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Observation",
            profile: None,
            interactions: VERSIONED,
            search: &[],
            operations: &[],
        },
    ],
};
