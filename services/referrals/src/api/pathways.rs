//! RTT pathways over JSON: read one (events, periods, weeks waited), list a patient's, and
//! record clock events; the use cases are `app::pathways`'.
use super::bodies::{parse_clock, ClockBody};
use super::support::{patient_id, uuid, Caller};
use crate::app::pathways as app;
use crate::app::{invalid, refuse};
use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};

const JSON: Flavour = Flavour::Json;

#[utoipa::path(
    tag = "pathways",
    params(("id" = uuid::Uuid, Path, description = "The pathway")),
    responses((status = 200, description = "The pathway with its clock events and RTT periods as derived today", body = Object))
)]
#[get("/pathways/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match uuid("id", &path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let v = app::read(&auth, id.into(), Utc::now().date_naive()).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(
    tag = "pathways",
    params(("patient_id" = String, Query, description = "The patient")),
    responses((status = 200, description = "The patient's pathways the caller may see", body = Object))
)]
#[get("/pathways")]
pub async fn list(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match q.get("patient_id").map(|p| patient_id(p)) {
        Some(Ok(p)) if q.len() == 1 => p,
        Some(Err(e)) => return refuse(&auth, None, e).await,
        _ => {
            let e = invalid("patient_id", "required", "list by patient_id only");
            return refuse(&auth, None, e).await;
        }
    };
    let rows = app::list(&auth, patient).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "total": rows.len(), "pathways": rows })))
}

/// Records a clock event on a pathway; answers the pathway with its periods re-derived.
#[utoipa::path(
    tag = "pathways",
    params(("id" = uuid::Uuid, Path, description = "The pathway")),
    responses((status = 201, description = "The pathway with its periods re-derived", body = Object))
)]
#[post("/pathways/{id}/clock-events")]
pub async fn record(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ClockBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let (id, (kind, on_date)) = match (uuid("id", &path), parse_clock(&body, today)) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(e), _) | (_, Err(e)) => return refuse(&auth, None, e).await,
    };
    let v = app::record(&auth, id.into(), kind, on_date, today).await?;
    Ok(HttpResponse::Created().json(v))
}
