//! The referrals service's HTTP API: JSON (referrals, pathways, waiting lists) and FHIR
//! `ServiceRequest` under `/fhir`. Handlers parse, authorise, run `store` inside one audited
//! transaction, and answer.
mod bodies;
pub mod errors;
pub mod fhir;
mod pathways;
pub mod referrals;
mod support;
pub mod waiting;

use actix_web::http::Method;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

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

/// What the API document says of this service as a whole.
pub const INFO: ApiInfo = ApiInfo {
    title: "Tessera referrals",
    description: "Referrals (e-RS and local), 18-week RTT pathways and their clocks, waiting lists and the 92% standard; FHIR ServiceRequest under /fhir. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md); FHIR errors are OperationOutcomes.",
};

/// Every route's action and the activity the caller's selected role needs: the one place
/// the gate and the API document read it from (ADR 26).
pub fn operations(config: &crate::Config) -> Operations {
    let (referral, waiting) = (
        &config.roles.referral_activity,
        &config.roles.waiting_list_activity,
    );
    Operations::new()
        .activity(POST, "/referrals", "referral.create", referral)
        .activity(GET, "/referrals", "referral.search", referral)
        .activity(GET, "/referrals/{id}", "referral.read", referral)
        .activity(
            POST,
            "/referrals/{id}/transitions",
            "referral.transition",
            referral,
        )
        .activity(GET, "/pathways", "pathway.search", referral)
        .activity(GET, "/pathways/{id}", "pathway.read", referral)
        .activity(
            POST,
            "/pathways/{id}/clock-events",
            "pathway.clock-event",
            referral,
        )
        .activity(GET, "/waiting-list", "waiting-list.read", waiting)
        .activity(
            GET,
            "/waiting-list/standard",
            "waiting-list.standard",
            waiting,
        )
        .activity(
            GET,
            "/waiting-list/forecast",
            "waiting-list.forecast",
            waiting,
        )
        .activity(GET, "/merge-reviews", "merge-review.list", waiting)
        .activity(POST, "/fhir/ServiceRequest", "referral.create", referral)
        .activity(GET, "/fhir/ServiceRequest", "referral.search", referral)
        .activity(GET, "/fhir/ServiceRequest/{id}", "referral.read", referral)
        .public(GET, "/fhir/metadata")
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(referrals::create)
        .service(referrals::search)
        .service(referrals::read)
        .service(referrals::transition)
        .service(pathways::list)
        .service(pathways::read)
        .service(pathways::record)
        .service(waiting::list)
        .service(waiting::standard_report)
        .service(waiting::forecast)
        .service(waiting::merge_reviews)
        .service(fhir::capability_statement)
        .service(fhir::create)
        .service(fhir::search)
        .service(fhir::read);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_mounted_route_is_documented_and_has_one_row_in_the_operation_table() {
        let ops = super::operations(&crate::Config::default());
        let doc = tessera_edge::openapi::document(&super::INFO, &ops, super::routes);
        if let Ok(to) = std::env::var("TESSERA_OPENAPI_OUT") {
            std::fs::write(to, serde_json::to_string_pretty(&doc).unwrap_or_default()).ok();
        }
        let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
        assert!(mismatches.is_empty(), "{mismatches:#?}");
        let transition = &doc["paths"]["/referrals/{id}/transitions"]["post"];
        assert_eq!(transition["x-activities"], serde_json::json!(["B1110"]));
        assert_eq!(transition["x-action"], "referral.transition");
    }
}
