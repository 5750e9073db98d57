//! The MPI's HTTP adapter: the JSON API under `/patients`, FHIR R4 under `/fhir`, the OpenAPI
//! document, and logout. Handlers translate representations; `usecases` does the work.

pub(crate) mod access;
pub mod auth;
mod fhir;
mod fhir_search;
pub mod hl7;
mod idempotent;
mod merges;
mod patients;
pub mod problem;
/// The use cases the handlers call (`crate::app`).
use crate::app as usecases;

use actix_web::web;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::Idempotency;

pub struct AppState {
    /// Database, tenants, token verifier, revocations, rate limit, metrics, relay.
    pub gate: Gate,
    pub idempotency: Idempotency,
    /// Each tenant's matching weights and thresholds (defaults until its own are set).
    pub models: crate::models::ModelCache,
    /// Permits seeing a restricted patient's location (`Config::restricted_activity`).
    pub restricted_activity: String,
}

impl HasGate for AppState {
    fn gate(&self) -> &Gate {
        &self.gate
    }
}

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi))
        .route("/auth/logout", web::post().to(patients::logout))
        .service(
            web::scope("/patients")
                .route("", web::post().to(patients::register))
                .route("", web::get().to(patients::find))
                .route("/$match", web::post().to(patients::match_patients))
                .route("/{id}", web::get().to(patients::read))
                .route("/{id}", web::put().to(patients::update))
                .route("/{id}/history", web::get().to(patients::history))
                .route("/{id}/merges", web::get().to(merges::of_patient)),
        )
        .route("/merges", web::post().to(merges::create))
        .route("/merges/{id}/unmerge", web::post().to(merges::unmerge))
        .route("/hl7/v2", web::post().to(hl7::http))
        .route("/match-settings", web::get().to(merges::settings))
        .route(
            "/match-settings/thresholds",
            web::put().to(merges::set_thresholds),
        )
        .route("/match-settings/train", web::post().to(merges::train))
        .route("/match-reviews", web::get().to(merges::list_reviews))
        .route(
            "/match-reviews/{id}/confirm",
            web::post().to(merges::confirm),
        )
        .route("/match-reviews/{id}/reject", web::post().to(merges::reject))
        .service(
            web::scope("/fhir")
                .route(
                    "/metadata",
                    web::get().to(fhir_search::capability_statement),
                )
                .route("/Patient", web::post().to(fhir::create))
                .route("/Patient", web::get().to(fhir_search::search))
                .route("/Patient/$match", web::post().to(fhir::match_operation))
                .route("/Patient/{id}", web::get().to(fhir::read))
                .route("/Patient/{id}", web::put().to(fhir::update))
                .route(
                    "/Patient/{id}/_history",
                    web::get().to(fhir_search::history),
                ),
        );
}

async fn openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
