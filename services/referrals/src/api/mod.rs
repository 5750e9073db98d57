//! The referrals service's HTTP API: JSON (referrals, pathways, waiting lists) and FHIR
//! `ServiceRequest` under `/fhir`. Handlers parse, authorise, run `store` inside one audited
//! transaction, and answer.
pub mod fhir;
mod pathways;
pub mod referrals;
mod support;
pub mod waiting;

use actix_web::web;
use tessera_edge::gate::{Gate, HasGate};

pub use support::{Authorized, Caller};

pub struct AppState {
    pub gate: Gate,
    pub config: crate::Config,
}

impl HasGate for AppState {
    fn gate(&self) -> &Gate {
        &self.gate
    }
}

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi))
        .route("/referrals", web::post().to(referrals::create))
        .route("/referrals", web::get().to(referrals::search))
        .route("/referrals/{id}", web::get().to(referrals::read))
        .route(
            "/referrals/{id}/transitions",
            web::post().to(referrals::transition),
        )
        .route("/pathways", web::get().to(pathways::list))
        .route("/pathways/{id}", web::get().to(pathways::read))
        .route(
            "/pathways/{id}/clock-events",
            web::post().to(pathways::record),
        )
        .route("/waiting-list", web::get().to(waiting::list))
        .route(
            "/waiting-list/standard",
            web::get().to(waiting::standard_report),
        )
        .route("/waiting-list/forecast", web::get().to(waiting::forecast))
        .route("/merge-reviews", web::get().to(waiting::merge_reviews))
        .route("/fhir/metadata", web::get().to(fhir::capability_statement))
        .route("/fhir/ServiceRequest", web::post().to(fhir::create))
        .route("/fhir/ServiceRequest", web::get().to(fhir::search))
        .route("/fhir/ServiceRequest/{id}", web::get().to(fhir::read));
}

async fn openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
