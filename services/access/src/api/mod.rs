//! The access service's HTTP API (JSON; FHIR `AuditEvent` search under `/fhir`). Handlers
//! parse, authorise, call `store` inside one audited transaction, and answer.
mod alerts;
mod audit;
mod audit_fhir;
mod consent;
pub mod errors;
mod relationships;
mod support;
mod teams;

use actix_web::http::Method;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const PUT: Method = Method::PUT;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;

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
    title: "Tessera access",
    description: "Legitimate relationships, break-glass and alerts, seals, consent, teams and the audit store. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md); FHIR errors are OperationOutcomes.",
};

/// Every route's action and what the caller's selected role needs: the one place the gate
/// and the API document read it from (ADR 26). No national B-codes are verified for managing
/// relationships, seals or the audit trail; the trust configures them (ADR 15).
pub fn operations(config: &crate::Config) -> Operations {
    let r = &config.roles;
    let (claim, manage, privacy) = (&r.claim_activity, &r.manage_activity, &r.privacy_job_roles);
    let overrides = tessera_access::decision::OVERRIDE_ACTIVITY;
    Operations::new()
        .activity(GET, "/teams", "team.list", claim)
        .activity(PUT, "/teams/{code}", "team.write", manage)
        .activity(PUT, "/teams/{code}/members", "team.members", manage)
        .activity(
            POST,
            "/teams/{code}/caseload",
            "relationship.caseload",
            manage,
        )
        .activity(POST, "/relationships", "relationship.claim", claim)
        .activity(GET, "/relationships", "relationship.list", claim)
        .activity(POST, "/relationships/{id}/end", "relationship.end", claim)
        .activity(GET, "/relationship-rules", "relationship-rule.list", claim)
        .job_role(
            PUT,
            "/relationship-rules/{origin}",
            "relationship-rule.write",
            privacy,
        )
        .activity(POST, "/break-glass", "break-glass.claim", overrides)
        .job_role(GET, "/alerts", "alert.list", privacy)
        .job_role(
            POST,
            "/alerts/{id}/acknowledge",
            "alert.acknowledge",
            privacy,
        )
        .job_role(POST, "/alerts/{id}/notes", "alert.annotate", privacy)
        .activity(GET, "/seals", "seal.list", manage)
        .activity(PUT, "/seals/{patient}/{item}", "seal.set", manage)
        .activity(DELETE, "/seals/{patient}/{item}", "seal.remove", manage)
        .activity(GET, "/consent/{patient}", "consent.read", manage)
        .activity(PUT, "/consent/{patient}/sharing", "consent.sharing", manage)
        .activity(
            POST,
            "/consent/{patient}/nominations",
            "consent.nominate",
            manage,
        )
        .activity(
            POST,
            "/consent/{patient}/directives/{id}/withdraw",
            "consent.withdraw",
            manage,
        )
        .job_role(GET, "/audit", "audit.search", privacy)
        .job_role(GET, "/audit/verify", "audit.verify", privacy)
        .job_role(
            GET,
            "/patients/{patient}/access-report",
            "audit.who-looked",
            privacy,
        )
        .job_role(GET, "/fhir/AuditEvent", "audit.fhir-search", privacy)
        .public(GET, "/fhir/metadata")
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(teams::list_teams)
        .service(teams::put_team)
        .service(teams::put_members)
        .service(teams::add_to_caseload)
        .service(relationships::claim)
        .service(relationships::list)
        .service(relationships::end)
        .service(relationships::list_rules)
        .service(relationships::put_rule)
        .service(alerts::break_glass)
        .service(alerts::list_alerts)
        .service(alerts::acknowledge)
        .service(alerts::annotate)
        .service(consent::list_seals)
        .service(consent::put_seal)
        .service(consent::delete_seal)
        .service(consent::get_consent)
        .service(consent::put_sharing)
        .service(consent::nominate)
        .service(consent::withdraw)
        .service(audit::search)
        .service(audit::verify)
        .service(audit::who_looked)
        .service(audit_fhir::capability_statement)
        .service(audit_fhir::search);
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
        let put_seal = &doc["paths"]["/seals/{patient}/{item}"]["put"];
        assert_eq!(put_seal["x-activities"], serde_json::json!(["B0825"]));
        assert_eq!(put_seal["x-action"], "seal.set");
        assert_eq!(
            doc["paths"]["/audit"]["get"]["x-job-roles"],
            serde_json::json!(["R0001", "R5105"])
        );
        assert!(doc["paths"]["/fhir/metadata"]["get"]
            .get("security")
            .is_none());
    }
}
