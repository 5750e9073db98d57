//! Referrals over JSON: receive, read (with its history), search (the triage worklist), and
//! move through the lifecycle. Bodies are parsed in [`super::bodies`]; the use cases are
//! `app::referrals`'.
use super::bodies::{parse_referral, parse_search, parse_transition, ReferralBody, TransitionBody};
use super::support::{uuid, Caller};
use crate::app::referrals as app;
use crate::app::refuse;
use crate::domain::ReferralState;
use crate::store::{self, Referral};
use actix_web::{get, http::header, post, web, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

/// A referral with its history and the states it may move to next.
#[derive(Serialize, ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    referral: Referral,
    history: Vec<store::Transition>,
    allowed_transitions: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralList {
    total: usize,
    referrals: Vec<Referral>,
}

const JSON: Flavour = Flavour::Json;

/// Receives a referral (in AWAITING_TRIAGE), with its pathway and clock start.
#[utoipa::path(
    tag = "referrals",
    responses((status = 201, description = "The referral, received (AWAITING_TRIAGE), with its pathway", body = Referral, headers(("Location" = String, description = "The referral's URL")))
    )
)]
#[post("/referrals")]
pub async fn create(
    caller: Caller,
    body: web::Json<ReferralBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let n = match parse_referral(body.into_inner(), &auth.identity.user_id, today) {
        Ok(n) => n,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    let r = app::receive(&auth, n).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/referrals/{}", r.id)))
        .json(r))
}

#[utoipa::path(
    tag = "referrals",
    params(("id" = uuid::Uuid, Path, description = "The referral")),
    responses((status = 200, description = "The referral with its history and the states it may move to", body = ReferralDetail, headers(("ETag" = String, description = "W/\"<version>\""))))
)]
#[get("/referrals/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match uuid("id", &path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (r, history) = app::read_one(&auth, id.into()).await?;
    let allowed_transitions = ReferralState::parse(&r.state)
        .map(|s| s.successors().iter().map(|x| x.as_str()).collect())
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .json(ReferralDetail {
            referral: r,
            history,
            allowed_transitions,
        }))
}

#[utoipa::path(
    tag = "referrals",
    params(
        ("patient_id" = Option<String>, Query, description = "The patient"),
        ("ubrn" = Option<String>, Query, description = "e-RS Unique Booking Reference Number"),
        ("team" = Option<String>, Query, description = "The receiving team (the triage worklist)"),
        ("state" = Option<String>, Query, description = "A referral state, e.g. AWAITING_TRIAGE"),
        ("_count" = Option<u64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "The referrals that match and that the caller may see, newest first", body = ReferralList))
)]
#[get("/referrals")]
pub async fn search(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let s = match parse_search(&q, 1000) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (shown, _) = app::search_visible(&auth, s).await?;
    Ok(HttpResponse::Ok().json(ReferralList {
        total: shown.len(),
        referrals: shown,
    }))
}

/// Moves a referral through its lifecycle: the receiving team (or anyone with a relationship
/// with the patient) may.
#[utoipa::path(
    tag = "referrals",
    params(("id" = uuid::Uuid, Path, description = "The referral")),
    responses(
        (status = 200, description = "The referral in its new state", body = Referral),
        (status = 409, description = "Not a permitted transition from the current state, or `expected_version` is stale", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/referrals/{id}/transitions")]
pub async fn transition(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let (id, t) = match (
        uuid("id", &path),
        parse_transition(body.into_inner(), &auth.identity.user_id, today),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return refuse(&auth, None, e).await,
    };
    let r = app::transition(&auth, id.into(), t, today).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .json(r))
}
