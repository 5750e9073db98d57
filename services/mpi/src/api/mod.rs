//! The MPI's HTTP adapter: the JSON API under `/patients`, FHIR R4 under `/fhir`, the OpenAPI
//! document, and logout. Handlers translate representations; `usecases` does the work.

pub(crate) mod access;
pub mod auth;
pub mod errors;
mod fhir;
pub mod hl7;
mod idempotent;
mod matches;
mod merges;
pub mod mllp;
mod patients;
pub mod problem;
mod views;
/// The use cases the handlers call (`crate::app`).
use crate::app as usecases;

use actix_web::http::Method;
use tessera_access::Activity;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const PUT: Method = Method::PUT;
const POST: Method = Method::POST;
use tessera_edge::Idempotency;

pub struct AppState {
    /// Database, tenants, token verifier, revocations, rate limit, metrics, relay.
    pub gate: Gate,
    pub idempotency: Idempotency,
    /// Each tenant's matching weights and thresholds (defaults until its own are set).
    pub models: crate::app::models::ModelCache,
    /// Permits seeing a restricted patient's location (`Config::restricted_activity`).
    pub restricted_activity: String,
}

impl HasGate for AppState {
    fn gate(&self) -> &Gate {
        &self.gate
    }
}

/// What the API document says of this service as a whole.
pub const INFO: ApiInfo = ApiInfo {
    title: "Tessera MPI",
    description: "The master patient index: registration, search, probabilistic matching, merge and unmerge, HL7 v2 ADT, and FHIR R4 Patient under /fhir. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md); FHIR errors are OperationOutcomes; HL7 v2 errors are NACKs.",
};

/// Every route's action and the national RBAC activity the caller's selected role needs:
/// the one place the gate and the API document read it from (ADR 26). Seeing a restricted
/// patient's location needs `restricted_activity` as well, decided per record.
pub fn operations() -> Operations {
    let (view, amend) = (Activity::VIEW_DEMOGRAPHICS, Activity::AMEND_DEMOGRAPHICS);
    Operations::new()
        .authenticated(POST, "/auth/logout", "session.logout")
        .activity(POST, "/patients", "patient.register", amend)
        .activity(GET, "/patients", "patient.search", view)
        .activity(POST, "/patients/$match", "patient.match", view)
        .activity(GET, "/patients/{id}", "patient.read", view)
        .activity(PUT, "/patients/{id}", "patient.update", amend)
        .activity(GET, "/patients/{id}/history", "patient.history", view)
        .activity(GET, "/patients/{id}/merges", "patient.merges", view)
        .activity(POST, "/merges", "patient.merge", amend)
        .activity(POST, "/merges/{id}/unmerge", "patient.unmerge", amend)
        .activity(POST, "/hl7/v2", "hl7.adt", amend)
        .activity(GET, "/match-settings", "match.settings", view)
        .activity(PUT, "/match-settings/thresholds", "match.thresholds", amend)
        .activity(POST, "/match-settings/train", "match.train", amend)
        .activity(GET, "/match-reviews", "review.list", view)
        .activity(POST, "/match-reviews/{id}/confirm", "review.confirm", amend)
        .activity(POST, "/match-reviews/{id}/reject", "review.reject", amend)
        .public(GET, "/fhir/metadata")
        .activity(POST, "/fhir/Patient", "patient.register", amend)
        .activity(GET, "/fhir/Patient", "patient.search", view)
        .activity(POST, "/fhir/Patient/$match", "patient.match", view)
        .activity(GET, "/fhir/Patient/{id}", "patient.read", view)
        .activity(PUT, "/fhir/Patient/{id}", "patient.update", amend)
        .activity(GET, "/fhir/Patient/{id}/_history", "patient.history", view)
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
/// `$match` is mounted before `{id}` so it is never read as an id.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(patients::logout)
        .service(patients::register)
        .service(patients::find)
        .service(matches::match_patients)
        .service(patients::read)
        .service(patients::update)
        .service(patients::history)
        .service(merges::of_patient)
        .service(merges::create)
        .service(merges::unmerge)
        .service(hl7::http)
        .service(merges::settings)
        .service(merges::set_thresholds)
        .service(merges::train)
        .service(merges::list_reviews)
        .service(merges::confirm)
        .service(merges::reject)
        .service(fhir::search::capability_statement)
        .service(fhir::create)
        .service(fhir::search::search)
        .service(fhir::match_operation)
        .service(fhir::read)
        .service(fhir::update)
        .service(fhir::search::history);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_mounted_route_is_documented_and_has_one_row_in_the_operation_table() {
        let ops = super::operations();
        let doc = tessera_edge::openapi::document(&super::INFO, &ops, super::routes);
        if let Ok(to) = std::env::var("TESSERA_OPENAPI_OUT") {
            std::fs::write(to, serde_json::to_string_pretty(&doc).unwrap_or_default()).ok();
        }
        let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
        assert!(mismatches.is_empty(), "{mismatches:#?}");
        let register = &doc["paths"]["/patients"]["post"];
        assert_eq!(register["x-activities"], serde_json::json!(["B0825"]));
        assert_eq!(register["x-action"], "patient.register");
        let logout = &doc["paths"]["/auth/logout"]["post"];
        assert!(logout.get("security").is_some() && logout.get("x-activities").is_none());
    }
}
