//! FHIR R4 UK Core over the same use cases as the JSON API: `Schedule` (a clinic; read,
//! search), `Slot` (read; search by schedule, start, status, service type) and `Appointment`
//! (read; search by patient, date, status; create to book; update to cancel or record the
//! outcome). `application/fhir+json`, `OperationOutcome` on errors (ADR 23).
mod map;

use super::bodies::parse_booking;
use super::Caller;
use crate::app::booking as app;
use crate::app::clinics::clinics;
use crate::app::refuse;
use crate::domain::{AppointmentId, ClinicId, SlotId, SlotType};
use crate::store::{AppointmentSearch, Availability, Booking};
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use map::{Change, APPOINTMENT_PROFILE, SCHEDULE_PROFILE, SLOT_PROFILE};
use serde_json::Value;
use tessera_edge::codes::{NOT_FOUND, SEARCH_TOO_MANY};
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_fhir::{refs, DateParam, Search};
use uuid::Uuid;

const FHIR: Flavour = Flavour::Fhir;
/// The most a `Slot` or `Appointment` search looks through (its total is exact up to here).
const MAX_MATCHES: u64 = 1000;

fn fhir(v: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(tessera_fhir::FHIR_JSON)
        .json(v)
}

fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)]).with_flavour(FHIR)
}

fn not_found(kind: &str) -> ApiError {
    ApiError::new(NOT_FOUND, format!("no such {kind}")).with_flavour(FHIR)
}

fn too_many(kind: &str) -> ApiError {
    ApiError::new(
        SEARCH_TOO_MANY,
        format!("more than {MAX_MATCHES} {kind}s match: narrow the search"),
    )
    .with_flavour(FHIR)
}

fn search(req: &HttpRequest, supported: &[&str]) -> Result<Search, ApiError> {
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    Search::parse(req.query_string(), prefer, supported)
}

/// One page of `found` as a searchset Bundle of `kind`.
fn page<T>(
    req: &HttpRequest,
    kind: &str,
    s: &Search,
    found: &[T],
    id: impl Fn(&T) -> String,
    to: impl Fn(&T) -> Value,
) -> HttpResponse {
    let base = tessera_fhir::base_url(req, None);
    let entries = found
        .iter()
        .skip(s.offset)
        .take(s.count)
        .map(|x| tessera_fhir::bundle::matched(&base, kind, &id(x), to(x)))
        .collect();
    fhir(&tessera_fhir::searchset(
        &base,
        kind,
        s,
        found.len(),
        entries,
    ))
}

/// A date parameter's days as an inclusive local range, within `(from, to)`.
fn narrow(
    v: &str,
    (from, to): (NaiveDate, NaiveDate),
    name: &str,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let d = DateParam::parse(v)
        .ok_or_else(|| invalid(name, "format", "a date, optionally prefixed (ge2026-12-01)"))?;
    let (lo, hi) = d
        .bounds()
        .ok_or_else(|| invalid(name, "prefix", "ne is not supported here"))?;
    let lo = lo.map_or(from, |(d, inc)| if inc { d } else { d + Duration::days(1) });
    let hi = hi.map_or(to, |(d, inc)| if inc { d } else { d - Duration::days(1) });
    Ok((lo.max(from), hi.min(to)))
}

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The clinic's id")),
    responses((status = 200, description = "The Schedule", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Schedule/{id}")]
pub async fn read_schedule(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(path.trim()) else {
        return refuse(&auth, None, not_found("Schedule")).await;
    };
    let all = clinics(&auth).await?;
    let c = all
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| not_found("Schedule"))?;
    Ok(fhir(&map::schedule(c)))
}

/// The trust's clinics as Schedules, by `specialty` (treatment function) or `identifier`
/// (clinic code).
#[utoipa::path(
    tag = "fhir",
    params(
        ("specialty" = Option<String>, Query, description = "Treatment function code"),
        ("identifier" = Option<String>, Query, description = "Clinic code"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Schedule")]
pub async fn search_schedules(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let s = match search(&req, &["specialty", "identifier"]) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let specialty = s.get("specialty").map(|v| refs::token(v).1.to_string());
    let code = s.get("identifier").map(|v| refs::token(v).1.to_string());
    let found: Vec<_> = clinics(&auth)
        .await?
        .into_iter()
        .filter(|c| {
            specialty
                .as_ref()
                .is_none_or(|x| &c.treatment_function == x)
        })
        .filter(|c| code.as_ref().is_none_or(|x| &c.code == x))
        .collect();
    Ok(page(
        &req,
        "Schedule",
        &s,
        &found,
        |c| c.id.to_string(),
        map::schedule,
    ))
}

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The slot's id")),
    responses((status = 200, description = "The Slot", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Slot/{id}")]
pub async fn read_slot(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(path.trim()) else {
        return refuse(&auth, None, not_found("Slot")).await;
    };
    let s = app::slot(&auth, SlotId::from(id))
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    Ok(fhir(&map::slot(&s)))
}

fn slot_query(s: &Search) -> Result<Availability, ApiError> {
    let today = Utc::now().date_naive();
    let mut a = Availability {
        from: today,
        to: today + Duration::weeks(26),
        clinic: None,
        specialty: None,
        slot_type: None,
        site: None,
        clinician: None,
        limit: MAX_MATCHES + 1,
        statuses: Some(vec![
            "free".into(),
            "busy".into(),
            "busy-unavailable".into(),
        ]),
    };
    let window = (today, today + Duration::weeks(53));
    for (k, v) in &s.params {
        match k.as_str() {
            "schedule" => {
                let id = refs::referenced_id("Schedule", v).unwrap_or(v);
                a.clinic =
                    Some(ClinicId::from(Uuid::parse_str(id).map_err(|_| {
                        invalid("schedule", "format", "Schedule/<id>")
                    })?));
            }
            "start" => {
                (a.from, a.to) = narrow(v, (a.from.max(window.0), a.to.min(window.1)), "start")?
            }
            "status" => {
                let list: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
                if let Some(bad) = list
                    .iter()
                    .find(|x| !["free", "busy", "busy-unavailable"].contains(&x.as_str()))
                {
                    return Err(invalid(
                        "status",
                        "value",
                        &format!("{bad:?}: free, busy or busy-unavailable"),
                    ));
                }
                a.statuses = Some(list);
            }
            _ => {
                let code = refs::token(v).1;
                a.slot_type = Some(SlotType::parse(code).ok_or_else(|| {
                    invalid(
                        "service-type",
                        "code",
                        "new, follow-up, urgent or two-week-wait",
                    )
                })?);
            }
        }
    }
    Ok(a)
}

/// Slots from today on (26 weeks unless `start` says otherwise; within a year), earliest
/// first: by `schedule`, `start` (prefixed dates), `status` (comma: any of) and
/// `service-type`.
#[utoipa::path(
    tag = "fhir",
    params(
        ("schedule" = Option<String>, Query, description = "Schedule/<id>"),
        ("start" = Option<String>, Query, description = "A date with a prefix (ge, le, gt, lt, eq); repeat for a range"),
        ("status" = Option<String>, Query, description = "free, busy, busy-unavailable"),
        ("service-type" = Option<String>, Query, description = "new, follow-up, urgent, two-week-wait"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Slot")]
pub async fn search_slots(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let q = search(&req, &["schedule", "start", "status", "service-type"])
        .and_then(|s| slot_query(&s).map(|q| (s, q)));
    let (s, q) = match q {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let found = app::availability(&auth, q)
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    if found.len() as u64 > MAX_MATCHES {
        return Err(too_many("Slot"));
    }
    Ok(page(
        &req,
        "Slot",
        &s,
        &found,
        |x| x.id.to_string(),
        map::slot,
    ))
}

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The appointment's id")),
    responses((status = 200, description = "The Appointment", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Appointment/{id}")]
pub async fn read_appointment(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(path.trim()) else {
        return refuse(&auth, None, not_found("Appointment")).await;
    };
    let a = app::appointment(&auth, AppointmentId::from(id))
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(a.version)))
        .content_type(tessera_fhir::FHIR_JSON)
        .json(map::appointment(&a)))
}

fn appointment_query(s: &Search) -> Result<AppointmentSearch, ApiError> {
    let mut q = AppointmentSearch {
        limit: MAX_MATCHES + 1,
        ..Default::default()
    };
    let far = (NaiveDate::MIN, NaiveDate::MAX);
    for (k, v) in &s.params {
        match k.as_str() {
            "patient" => {
                q.patient = Some(refs::referenced_id("Patient", v).unwrap_or(v).to_string())
            }
            "date" => {
                let (from, to) =
                    narrow(v, (q.from.unwrap_or(far.0), q.to.unwrap_or(far.1)), "date")?;
                (q.from, q.to) = ((from != far.0).then_some(from), (to != far.1).then_some(to));
            }
            _ => {
                for status in v.split(',').map(str::trim) {
                    let ours: &[&str] = match status {
                        "booked" => &["booked"],
                        "cancelled" => &["cancelled"],
                        "fulfilled" => &["attended"],
                        "noshow" => &["not-seen", "did-not-attend"],
                        other => {
                            return Err(invalid(
                                "status",
                                "value",
                                &format!("{other:?}: booked, cancelled, fulfilled or noshow"),
                            ))
                        }
                    };
                    q.statuses.extend(ours.iter().map(|x| x.to_string()));
                }
            }
        }
    }
    if q.patient.is_none() && (q.from.is_none() || q.to.is_none()) {
        return Err(invalid(
            "patient",
            "required",
            "search by patient, or by a bounded date range (date=ge…&date=le…)",
        ));
    }
    Ok(q)
}

/// Appointments by `patient`, `date` (prefixed; repeat for a range) and `status`; a search
/// without a patient needs a bounded date range.
#[utoipa::path(
    tag = "fhir",
    params(
        ("patient" = Option<String>, Query, description = "Patient/<id> or <id>"),
        ("date" = Option<String>, Query, description = "A date with a prefix; repeat for a range"),
        ("status" = Option<String>, Query, description = "booked, cancelled, fulfilled, noshow (comma: any of)"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Appointment")]
pub async fn search_appointments(
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let q = search(&req, &["patient", "date", "status"])
        .and_then(|s| appointment_query(&s).map(|q| (s, q)));
    let (s, q) = match q {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let found = app::search(&auth, q)
        .await
        .map_err(|e| e.with_flavour(FHIR))?;
    if found.len() as u64 > MAX_MATCHES {
        return Err(too_many("Appointment"));
    }
    Ok(page(
        &req,
        "Appointment",
        &s,
        &found,
        |x| x.id.to_string(),
        map::appointment,
    ))
}

fn answered(status: actix_web::http::StatusCode, a: &crate::store::Appointment) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, format!("/fhir/Appointment/{}", a.id)))
        .insert_header((header::ETAG, tessera_fhir::version::etag(a.version)))
        .content_type(tessera_fhir::FHIR_JSON)
        .json(map::appointment(a))
}

/// Books: an `Appointment` with status `booked`, its `slot`, the `Patient` participant and
/// optionally the `ServiceRequest` it is `basedOn` — the JSON API's booking, with its
/// conflicts (409) and its `Idempotency-Key`.
#[utoipa::path(
    tag = "fhir",
    request_body(content = Object, content_type = "application/fhir+json", description = "An Appointment (UK Core)"),
    responses((status = 201, description = "The Appointment as booked", content_type = "application/fhir+json", body = Object))
)]
#[post("/fhir/Appointment")]
pub async fn create_appointment(
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let parsed = tessera_edge::key_of(&req)
        .map_err(|e| e.with_flavour(FHIR))
        .and_then(|key| {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("body: {e}")).with_flavour(FHIR))?;
            let b = map::booking(&v)
                .and_then(|b| parse_booking(b, &auth.identity.user_id))
                .map_err(|errs| {
                    ApiError::validation(errs)
                        .with_fhir_paths(map::fhir_path)
                        .with_flavour(FHIR)
                })?;
            Ok((key, b))
        });
    let (key, mut b) = match parsed {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    b.key = key;
    Ok(
        match app::book(&auth, b)
            .await
            .map_err(|e| e.with_flavour(FHIR))?
        {
            Booking::New(a) => answered(actix_web::http::StatusCode::CREATED, &a),
            Booking::Replayed(a) => {
                let mut r = answered(actix_web::http::StatusCode::CREATED, &a);
                r.headers_mut().insert(
                    header::HeaderName::from_static("idempotent-replayed"),
                    header::HeaderValue::from_static("true"),
                );
                r
            }
        },
    )
}

/// Cancels (`status` `cancelled`, `cancelationReason` `pat` or `prov`) or records the
/// outcome (`fulfilled`: attended; `noshow`: did not attend) of a booked appointment; any
/// other change is refused (422). `If-Match` honoured (412 when stale).
#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The appointment's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: update only if unchanged")
    ),
    request_body(content = Object, content_type = "application/fhir+json", description = "The Appointment with its new status"),
    responses(
        (status = 200, description = "The Appointment", content_type = "application/fhir+json", body = Object),
        (status = 412, description = "If-Match does not match the current version", content_type = "application/fhir+json", body = Object)
    )
)]
#[put("/fhir/Appointment/{id}")]
pub async fn update_appointment(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let parsed = (|| {
        let id = Uuid::parse_str(path.trim()).map_err(|_| not_found("Appointment"))?;
        let expected = tessera_fhir::version::if_match(&req).map_err(|e| e.with_flavour(FHIR))?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("body: {e}")).with_flavour(FHIR))?;
        if v["resourceType"] != "Appointment" || v["id"].as_str().is_some_and(|x| x != path.trim())
        {
            return Err(invalid("id", "value", "an Appointment with this id"));
        }
        Ok((AppointmentId::from(id), expected, v))
    })();
    let (id, expected, v) = match parsed {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    // `app::cancel`/`outcome` lock the appointment, check `If-Match` and refuse one that
    // is no longer booked, in the transaction that changes it.
    let done = match map::change(&v) {
        Ok(Some(Change::Cancel(by, reason))) => app::cancel(&auth, id, by, reason, expected).await,
        Ok(Some(Change::Outcome(o))) => {
            app::outcome(&auth, id, o, Default::default(), expected).await
        }
        Ok(None) => {
            let e = ApiError::new(
                crate::api::errors::NOT_A_STATUS_CHANGE,
                "an update may set status cancelled (with cancelationReason pat or prov), fulfilled or noshow",
            )
            .with_flavour(FHIR);
            return refuse(&auth, None, e).await;
        }
        Err(errs) => {
            let e = ApiError::validation(errs).with_fhir_paths(map::fhir_path).with_flavour(FHIR);
            return refuse(&auth, None, e).await;
        }
    }
    .map_err(|e| e.with_flavour(FHIR))?;
    Ok(answered(actix_web::http::StatusCode::OK, &done))
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
    software: "Tessera scheduling",
    published: "2026-12-06",
    resources: &[
        tessera_fhir::Resource {
            kind: "Schedule",
            profile: Some(SCHEDULE_PROFILE),
            interactions: &["read", "search-type"],
            search: &[("specialty", "token"), ("identifier", "token")],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Slot",
            profile: Some(SLOT_PROFILE),
            interactions: &["read", "search-type"],
            search: &[
                ("schedule", "reference"),
                ("start", "date"),
                ("status", "token"),
                ("service-type", "token"),
            ],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Appointment",
            profile: Some(APPOINTMENT_PROFILE),
            interactions: &["read", "search-type", "create", "update"],
            search: &[
                ("patient", "reference"),
                ("date", "date"),
                ("status", "token"),
            ],
            operations: &[],
        },
    ],
};
