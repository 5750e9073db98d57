//! `Appointment` over FHIR: read, search, create (book) and update (cancel, outcome).
use super::map::{self, Change};
use super::{invalid, narrow, not_found, page, search, too_many, FHIR, MAX_MATCHES};
use crate::api::bodies::parse_booking;
use crate::api::Caller;
use crate::app::booking as app;
use crate::app::refuse;
use crate::domain::AppointmentId;
use crate::store::{AppointmentSearch, Booking};
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde_json::Value;
use tessera_edge::problem::ApiError;
use tessera_fhir::{refs, Search};
use uuid::Uuid;

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
