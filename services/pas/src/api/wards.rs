//! Wards and beds over JSON: set up a ward with its beds, list wards, the bed board, a
//! bed's own state. The use cases are `app::wards`'.
use super::bodies::{id, parse_ward, BedStateBody, WardBody};
use super::Caller;
use crate::app::wards as app;
use crate::app::{domain_error, refuse};
use crate::domain::{BedId, BedState, WardId};
use crate::store::{BoardBed, Ward};
use actix_web::{get, post, put, web, HttpResponse};
use serde::Serialize;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct WardList {
    wards: Vec<Ward>,
}

#[derive(Serialize, ToSchema)]
pub struct BedBoard {
    ward_id: uuid::Uuid,
    beds: Vec<BoardBed>,
}

#[utoipa::path(tag = "wards", responses((status = 201, description = "The ward and its bed count", body = Ward)))]
#[post("/wards")]
pub async fn create(caller: Caller, body: web::Json<WardBody>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let w = match parse_ward(body.into_inner()) {
        Ok(w) => w,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    Ok(HttpResponse::Created().json(app::create_ward(&auth, w).await?))
}

#[utoipa::path(tag = "wards", responses((status = 200, description = "The trust's wards, by code", body = WardList)))]
#[get("/wards")]
pub async fn list(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let wards = app::wards(&auth).await?;
    Ok(HttpResponse::Ok().json(WardList { wards }))
}

/// Every bed of the ward in code order: `available`, `occupied` (with the patient's id and
/// spell), `closed` or `cleaning`.
#[utoipa::path(
    tag = "wards",
    params(("id" = uuid::Uuid, Path, description = "The ward")),
    responses((status = 200, description = "The bed board", body = BedBoard))
)]
#[get("/wards/{id}/board")]
pub async fn board(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let ward = match id("id", &path) {
        Ok(w) => WardId::from(w),
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    let beds = app::board(&auth, ward).await?;
    Ok(HttpResponse::Ok().json(BedBoard {
        ward_id: ward.as_uuid(),
        beds,
    }))
}

/// Closes a bed, puts it to cleaning, or makes it available; an occupied bed is 409
/// `bed.occupied` for anything but `available`.
#[utoipa::path(
    tag = "wards",
    params(("id" = uuid::Uuid, Path, description = "The bed")),
    responses((status = 200, description = "The bed", body = BoardBed))
)]
#[put("/beds/{id}/state")]
pub async fn bed_state(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<BedStateBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = id("id", &path)
        .map(BedId::from)
        .and_then(|b| BedState::parse(&body.state).map(|s| (b, s)));
    let (bed, state) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    Ok(HttpResponse::Ok().json(app::set_bed_state(&auth, bed, state).await?))
}
