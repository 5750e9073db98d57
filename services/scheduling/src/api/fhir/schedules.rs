//! `Schedule` (a clinic) and `Slot` over FHIR: read and search.
use super::{fhir, invalid, map, narrow, not_found, page, search, too_many, FHIR, MAX_MATCHES};
use crate::api::Caller;
use crate::app::booking as app;
use crate::app::clinics::clinics;
use crate::app::refuse;
use crate::domain::{ClinicId, SlotId, SlotType};
use crate::store::Availability;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use tessera_edge::problem::ApiError;
use tessera_fhir::{refs, Search};
use uuid::Uuid;

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
