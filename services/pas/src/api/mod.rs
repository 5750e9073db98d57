//! The PAS service's HTTP API (JSON): wards, beds and the bed board; admissions, transfers,
//! consultant changes, discharges and their cancellation; activity records, their coding,
//! the monthly extract and the reconciliation report; FHIR `Encounter` and `Location`.
//! Handlers parse, authorise, run one use case of `app`, and answer.
mod activity;
mod adt;
mod bodies;
pub mod errors;
mod fhir;
mod spells;
mod waiting;
mod wards;

use actix_web::http::Method;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;

pub type Caller = tessera_edge::gate::Caller<AppState>;
pub type Authorized = tessera_edge::gate::Authorized<AppState>;

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
    title: "Tessera PAS",
    description: "Patient administration: wards, beds and the bed board; admissions (hospital provider spells and their consultant episodes), transfers, changes of consultant, discharges, and their cancellation, with the history kept; one activity record for every finished consultant episode and attended outpatient appointment, clinical coding, the monthly extract and the reconciliation report. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md).",
};

/// Every route's action and the activity the caller's selected role needs: the one place
/// the gate and the API document read it from (ADR 26).
pub fn operations(config: &crate::Config) -> Operations {
    let r = &config.roles;
    let (ward, bed, coding) = (&r.ward_activity, &r.bed_activity, &r.coding_activity);
    let list = &r.waiting_list_activity;
    Operations::new()
        .activity(POST, "/wards", "ward.create", bed)
        .activity(GET, "/wards", "ward.list", ward)
        .activity(GET, "/wards/{id}/board", "ward.board", ward)
        .activity(PUT, "/beds/{id}/state", "bed.state", bed)
        .activity(POST, "/admissions", "spell.admit", ward)
        .activity(GET, "/spells", "spell.search", ward)
        .activity(GET, "/spells/{id}", "spell.read", ward)
        .activity(POST, "/spells/{id}/transfer", "spell.transfer", ward)
        .activity(POST, "/spells/{id}/consultant", "spell.consultant", ward)
        .activity(POST, "/spells/{id}/discharge", "spell.discharge", ward)
        .activity(POST, "/spells/{id}/cancel", "spell.cancel", ward)
        .activity(POST, "/spells/{id}/leave", "spell.leave", ward)
        .activity(GET, "/merge-reviews", "merge-review.list", ward)
        .activity(POST, "/waiting-list", "waiting-list.add", list)
        .activity(GET, "/waiting-list", "waiting-list.list", list)
        .activity(GET, "/waiting-list/census", "waiting-list.census", list)
        .activity(GET, "/waiting-list/{id}", "waiting-list.read", list)
        .activity(
            POST,
            "/waiting-list/{id}/offers",
            "waiting-list.offer",
            list,
        )
        .activity(
            PUT,
            "/waiting-list/{id}/suspension",
            "waiting-list.suspend",
            list,
        )
        .activity(
            POST,
            "/waiting-list/{id}/remove",
            "waiting-list.remove",
            list,
        )
        .activity(GET, "/adt/exceptions", "adt.exceptions", ward)
        .activity(POST, "/adt/exceptions/{id}/resolve", "adt.resolve", ward)
        .public(GET, "/fhir/metadata")
        .activity(GET, "/fhir/Encounter", "fhir.encounter.search", ward)
        .activity(GET, "/fhir/Encounter/{id}", "fhir.encounter.read", ward)
        .activity(GET, "/fhir/Location", "fhir.location.search", ward)
        .activity(GET, "/fhir/Location/{id}", "fhir.location.read", ward)
        .activity(GET, "/activity/extract", "activity.extract", coding)
        .activity(GET, "/activity/{id}", "activity.read", coding)
        .activity(PUT, "/activity/{id}/coding", "activity.code", coding)
        .activity(
            GET,
            "/reports/reconciliation",
            "report.reconciliation",
            coding,
        )
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(wards::create)
        .service(wards::list)
        .service(wards::board)
        .service(wards::bed_state)
        .service(spells::admit)
        .service(spells::search)
        .service(spells::read)
        .service(spells::transfer)
        .service(spells::consultant)
        .service(spells::discharge)
        .service(spells::cancel)
        .service(spells::leave)
        .service(spells::merge_reviews)
        .service(waiting::add)
        .service(waiting::list)
        .service(waiting::census)
        .service(waiting::read)
        .service(waiting::offer)
        .service(waiting::suspend)
        .service(waiting::remove)
        .service(adt::exceptions)
        .service(adt::resolve)
        .service(fhir::capability_statement)
        .service(fhir::search_encounters)
        .service(fhir::read_encounter)
        .service(fhir::search_locations)
        .service(fhir::read_location)
        .service(activity::extract)
        .service(activity::read)
        .service(activity::set_coding)
        .service(activity::reconciliation);
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
        assert_eq!(
            doc["paths"]["/admissions"]["post"]["x-activities"],
            serde_json::json!(["B0264"])
        );
    }
}
