//! The access service's HTTP API (JSON; FHIR `AuditEvent` search under `/fhir`). Handlers
//! parse, authorise, call `store` inside one audited transaction, and answer.
mod audit;
mod audit_fhir;
mod consent;
mod relationships;
mod support;

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
        .route("/teams", web::get().to(relationships::list_teams))
        .route("/teams/{code}", web::put().to(relationships::put_team))
        .route(
            "/teams/{code}/members",
            web::put().to(relationships::put_members),
        )
        .route(
            "/teams/{code}/caseload",
            web::post().to(relationships::add_to_caseload),
        )
        .route("/relationships", web::post().to(relationships::claim))
        .route("/relationships", web::get().to(relationships::list))
        .route(
            "/relationships/{id}/end",
            web::post().to(relationships::end),
        )
        .route(
            "/relationship-rules",
            web::get().to(relationships::list_rules),
        )
        .route(
            "/relationship-rules/{origin}",
            web::put().to(relationships::put_rule),
        )
        .route("/break-glass", web::post().to(relationships::break_glass))
        .route("/alerts", web::get().to(relationships::list_alerts))
        .route(
            "/alerts/{id}/acknowledge",
            web::post().to(relationships::acknowledge),
        )
        .route(
            "/alerts/{id}/notes",
            web::post().to(relationships::annotate),
        )
        .route("/seals", web::get().to(consent::list_seals))
        .route("/seals/{patient}/{item}", web::put().to(consent::put_seal))
        .route(
            "/seals/{patient}/{item}",
            web::delete().to(consent::delete_seal),
        )
        .route("/consent/{patient}", web::get().to(consent::get_consent))
        .route(
            "/consent/{patient}/sharing",
            web::put().to(consent::put_sharing),
        )
        .route(
            "/consent/{patient}/nominations",
            web::post().to(consent::nominate),
        )
        .route(
            "/consent/{patient}/directives/{id}/withdraw",
            web::post().to(consent::withdraw),
        )
        .route("/audit", web::get().to(audit::search))
        .route("/audit/verify", web::get().to(audit::verify))
        .route(
            "/patients/{patient}/access-report",
            web::get().to(audit::who_looked),
        )
        .route(
            "/fhir/metadata",
            web::get().to(audit_fhir::capability_statement),
        )
        .route("/fhir/AuditEvent", web::get().to(audit_fhir::search));
}

async fn openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
