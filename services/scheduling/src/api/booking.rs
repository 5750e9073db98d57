//! Booking over JSON: free slots, holds, appointments (book, read, cancel, reschedule,
//! outcome). The use cases are `app::booking`'.
use super::bodies::{
    date, id, parse_booking, parse_outcome, BookingBody, CancelBody, OutcomeBody, RescheduleBody,
};
use super::Caller;
use crate::app::booking as app;
use crate::app::{domain_error, refuse};
use crate::domain::{AppointmentId, ClinicId, HoldId, SlotId, SlotType};
use crate::store::{Appointment, Availability, Booking, Hold, Slot};
use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct SlotList {
    slots: Vec<Slot>,
}

fn invalid(f: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(f, code, message)])
}

const SLOT_PARAMS: &[&str] = &[
    "from",
    "to",
    "clinic",
    "specialty",
    "slot_type",
    "site",
    "clinician",
    "limit",
];

fn parse_availability(q: &HashMap<String, String>) -> Result<Availability, ApiError> {
    let today = Utc::now().date_naive();
    let mut a = Availability {
        from: today,
        to: today + Duration::weeks(26),
        clinic: None,
        specialty: None,
        slot_type: None,
        site: None,
        clinician: None,
        limit: 20,
        statuses: None,
    };
    for (k, v) in q {
        match k.as_str() {
            "from" => a.from = date("from", v).map_err(domain_error)?,
            "to" => a.to = date("to", v).map_err(domain_error)?,
            "clinic" => a.clinic = Some(ClinicId::from(id("clinic", v).map_err(domain_error)?)),
            "specialty" => {
                a.specialty =
                    Some(crate::domain::three_digits("specialty", v).map_err(domain_error)?)
            }
            "slot_type" => {
                a.slot_type = Some(SlotType::parse(v).ok_or_else(|| {
                    invalid(
                        "slot_type",
                        "code",
                        "new, follow-up, urgent or two-week-wait",
                    )
                })?)
            }
            "site" => a.site = Some(v.trim().to_string()),
            "clinician" => a.clinician = Some(v.trim().to_string()),
            "limit" => {
                a.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| invalid("limit", "range", "1 to 500"))?
            }
            other => {
                return Err(invalid(
                    other,
                    "unknown",
                    &format!("parameters: {}", SLOT_PARAMS.join(", ")),
                ))
            }
        }
    }
    if a.to < a.from || a.to > a.from + Duration::weeks(53) {
        return Err(invalid(
            "to",
            "range",
            "on or after from, within a year of it",
        ));
    }
    Ok(a)
}

/// The first free slots (places not booked or held), earliest first, in local time.
#[utoipa::path(
    tag = "booking",
    params(
        ("from" = Option<String>, Query, description = "YYYY-MM-DD, local (today)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, local, inclusive (26 weeks on)"),
        ("clinic" = Option<uuid::Uuid>, Query),
        ("specialty" = Option<String>, Query, description = "3-digit specialty code"),
        ("slot_type" = Option<String>, Query, description = "new, follow-up, urgent, two-week-wait"),
        ("site" = Option<String>, Query),
        ("clinician" = Option<String>, Query),
        ("limit" = Option<u64>, Query, description = "1 to 500 (20)")
    ),
    responses((status = 200, description = "Free slots", body = SlotList))
)]
#[get("/slots")]
pub async fn availability(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let a = match parse_availability(&q) {
        Ok(a) => a,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let slots = app::availability(&auth, a).await?;
    Ok(HttpResponse::Ok().json(SlotList { slots }))
}

fn slot_id(s: &str) -> Result<SlotId, ApiError> {
    id("id", s).map(SlotId::from).map_err(domain_error)
}

fn appointment_id(s: &str) -> Result<AppointmentId, ApiError> {
    id("id", s).map(AppointmentId::from).map_err(domain_error)
}

#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The slot")),
    responses((status = 200, description = "The slot, its places booked, held and free", body = Slot))
)]
#[get("/slots/{id}")]
pub async fn slot(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match slot_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::slot(&auth, id).await?))
}

/// Holds a place for `booking.hold_seconds` (300); it lapses by itself.
#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The slot")),
    responses((status = 201, description = "The hold", body = Hold))
)]
#[post("/slots/{id}/holds")]
pub async fn hold(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match slot_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Created().json(app::hold(&auth, id).await?))
}

fn created(a: Appointment) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/appointments/{}", a.id)))
        .json(a)
}

/// Books a place: 201, or 409 `slot.full` / `appointment.patient-clash` — never both the
/// booking and the conflict, whatever the concurrency. With an `Idempotency-Key`, a retry
/// gets the first booking again (201, `Idempotent-Replayed: true`); the key reused for
/// another booking is 422 `idempotency.mismatch`.
#[utoipa::path(
    tag = "booking",
    responses((status = 201, description = "The appointment", body = Appointment, headers(("Location" = String, description = "The appointment's URL"))))
)]
#[post("/appointments")]
pub async fn book(
    caller: Caller,
    req: HttpRequest,
    body: web::Json<BookingBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let key = match tessera_edge::key_of(&req) {
        Ok(k) => k,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let mut b = match parse_booking(body.into_inner(), &auth.identity.user_id) {
        Ok(b) => b,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    b.key = key;
    Ok(match app::book(&auth, b).await? {
        Booking::New(a) => created(a),
        Booking::Replayed(a) => {
            let mut r = created(a);
            r.headers_mut().insert(
                header::HeaderName::from_static("idempotent-replayed"),
                header::HeaderValue::from_static("true"),
            );
            r
        }
    })
}

#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The appointment")),
    responses((status = 200, description = "The appointment", body = Appointment))
)]
#[get("/appointments/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match appointment_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::appointment(&auth, id).await?))
}

/// Cancels: by the patient (attendance code 2) or the provider (4, and the patient goes on
/// the rebooking worklist). Neither stops an RTT clock.
#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The appointment")),
    responses((status = 200, description = "The appointment, cancelled", body = Appointment))
)]
#[post("/appointments/{id}/cancel")]
pub async fn cancel(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CancelBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let reason = b.reason.trim().to_string();
    let id = match appointment_id(&path) {
        Ok(_) if reason.is_empty() || reason.chars().count() > 500 => {
            return refuse(
                &auth,
                None,
                invalid("reason", "length", "1 to 500 characters"),
            )
            .await
        }
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::cancel(&auth, id, b.by, reason, None).await?))
}

/// Moves the appointment to another slot: the new one booked first and the old cancelled
/// (as `by`'s) in one transaction, so the patient never holds both or neither.
#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The appointment")),
    responses((status = 201, description = "The new appointment (`rescheduled_from` names the old)", body = Appointment))
)]
#[post("/appointments/{id}/reschedule")]
pub async fn reschedule(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<RescheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let parsed = (|| {
        let old = appointment_id(&path)?;
        let to = id("slot_id", &b.slot_id)
            .map(SlotId::from)
            .map_err(domain_error)?;
        let held = match b.hold_id.as_deref() {
            Some(h) => Some(HoldId::from(id("hold_id", h).map_err(domain_error)?)),
            None => None,
        };
        Ok::<_, ApiError>((old, to, held))
    })();
    let (old, to, held) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let moved = app::reschedule(&auth, old, to, held, b.overbook, b.by).await?;
    Ok(created(moved))
}

#[utoipa::path(
    tag = "booking",
    params(("id" = uuid::Uuid, Path, description = "The appointment")),
    responses((status = 200, description = "The appointment with its outcome", body = Appointment))
)]
#[post("/appointments/{id}/outcome")]
pub async fn outcome(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<OutcomeBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match appointment_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (outcome, rtt) = match parse_outcome(body.into_inner()) {
        Ok(o) => o,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    Ok(HttpResponse::Ok().json(app::outcome(&auth, id, outcome, rtt, None).await?))
}
