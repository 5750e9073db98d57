//! Clinics over JSON: set up clinics and session templates, generate sessions for a horizon,
//! record bank holidays, cancel a session. The use cases are `app::clinics`'.
use super::bodies::{
    date, id, parse_clinic, parse_template, ClinicBody, GenerateBody, HolidayBody, ReasonBody,
    TemplateBody,
};
use super::Caller;
use crate::app::clinics as app;
use crate::app::{domain_error, refuse};
use crate::domain::{ClinicId, SessionId, TemplateId};
use crate::store::{Clinic, Generated, Template};
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{Duration, Utc};
use serde::Serialize;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct ClinicList {
    clinics: Vec<Clinic>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionCancelled {
    /// The appointments cancelled by the provider (attendance code 4), now on the rebooking
    /// worklist.
    cancelled: Vec<uuid::Uuid>,
}

#[utoipa::path(tag = "clinics", responses((status = 201, description = "The clinic", body = Clinic)))]
#[post("/clinics")]
pub async fn create(caller: Caller, body: web::Json<ClinicBody>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let c = match parse_clinic(body.into_inner()) {
        Ok(c) => c,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    let clinic = app::create_clinic(&auth, c).await?;
    Ok(HttpResponse::Created().json(clinic))
}

#[utoipa::path(tag = "clinics", responses((status = 200, description = "The trust's clinics, by code", body = ClinicList)))]
#[get("/clinics")]
pub async fn list(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let clinics = app::clinics(&auth).await?;
    Ok(HttpResponse::Ok().json(ClinicList { clinics }))
}

#[utoipa::path(
    tag = "clinics",
    params(("id" = uuid::Uuid, Path, description = "The clinic")),
    responses((status = 201, description = "The session template", body = Template))
)]
#[post("/clinics/{id}/templates")]
pub async fn create_template(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let clinic = match id("id", &path) {
        Ok(c) => ClinicId::from(c),
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    let t = match parse_template(body.into_inner()) {
        Ok(t) => t,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    let template = app::create_template(&auth, clinic, t).await?;
    Ok(HttpResponse::Created().json(template))
}

/// Generates the template's sessions and slots from `from` (default today) for `weeks`:
/// idempotent — dates that have their session keep it, booked or not.
#[utoipa::path(
    tag = "clinics",
    params(("id" = uuid::Uuid, Path, description = "The session template")),
    responses((status = 200, description = "What was generated", body = Generated))
)]
#[post("/templates/{id}/sessions")]
pub async fn generate(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<GenerateBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let max = auth.state.config.booking.max_horizon_weeks;
    let b = body.into_inner();
    let parsed = (|| {
        let template = TemplateId::from(id("id", &path).map_err(domain_error)?);
        let from = match b.from.as_deref() {
            Some(s) => date("from", s).map_err(domain_error)?,
            None => Utc::now().date_naive(),
        };
        if !(1..=max).contains(&b.weeks) {
            return Err(ApiError::validation(vec![FieldError::new(
                "weeks",
                "range",
                format!("1 to {max}"),
            )]));
        }
        let to = from + Duration::weeks(i64::from(b.weeks)) - Duration::days(1);
        Ok((template, from, to))
    })();
    let (template, from, to) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::generate(&auth, template, from, to).await?))
}

#[utoipa::path(
    tag = "clinics",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "Recorded: no session is generated on it from now on"))
)]
#[put("/bank-holidays/{date}")]
pub async fn bank_holiday(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<HolidayBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let on = match date("date", &path) {
        Ok(d) => d,
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    let name = body.into_inner().name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        let e = ApiError::validation(vec![FieldError::new(
            "name",
            "length",
            "1 to 100 characters",
        )]);
        return refuse(&auth, None, e).await;
    }
    app::set_bank_holiday(&auth, on, name).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "clinics",
    params(("id" = uuid::Uuid, Path, description = "The session")),
    responses((status = 200, description = "The session is cancelled; its appointments too", body = SessionCancelled))
)]
#[post("/sessions/{id}/cancel")]
pub async fn cancel_session(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let session = match id("id", &path) {
        Ok(s) => SessionId::from(s),
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    let reason = body.into_inner().reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        let e = ApiError::validation(vec![FieldError::new(
            "reason",
            "length",
            "1 to 500 characters",
        )]);
        return refuse(&auth, None, e).await;
    }
    let cancelled = app::cancel_session(&auth, session, reason).await?;
    Ok(HttpResponse::Ok().json(SessionCancelled { cancelled }))
}
