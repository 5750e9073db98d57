//! The regional record's HTTP API: the summary as JSON, as a FHIR `$everything` Bundle and as
//! a page for clinicians; the matcher's proposals. Handlers parse, authorise, run one use case
//! of `app`, and answer.
pub mod errors;
pub use page::SESSION_COOKIE;
mod fhir;
pub mod page;
mod reviews;
mod summary;

use actix_web::http::Method;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use tessera_edge::problem::ApiError;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

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
    title: "Tessera regional care record",
    description: "One patient's care across the region's trusts, at a glance: demographics, referrals with their RTT clocks and weeks waited, appointments, admissions and documents from every trust that holds a record of the same person (linked by verified NHS number, or by a reviewer confirming the matcher's proposal), as far as the access rules allow — the viewer's legitimate relationship in their own trust, the patient's consent to share with the viewer's trust recorded in the trust whose data it is, seals always honoured. Withheld items are listed as withheld, never silently absent; every line names its trust and its freshness. Read from local projections of each trust's topics, never by calling the trusts' services; every cross-trust read is audited in both trusts. JSON, FHIR (`Patient/{id}/$everything`) and an HTML page. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md); FHIR errors are OperationOutcomes.",
};

/// Every route's action and the activity the caller's selected role needs: the one place
/// the gate and the API document read it from (ADR 26).
pub fn operations(config: &crate::Config) -> Operations {
    let (view, link) = (&config.roles.summary_activity, &config.roles.link_activity);
    Operations::new()
        .activity(GET, "/patients/{id}/summary", "region.summary", view)
        .activity(
            GET,
            "/patients/{id}/documents/{document}/content",
            "region.document.content",
            view,
        )
        .public(GET, "/fhir/metadata")
        .activity(
            GET,
            "/fhir/Patient/{id}/$everything",
            "fhir.patient.everything",
            view,
        )
        .public(GET, "/page")
        .public(POST, "/page/session")
        .activity(GET, "/page/patients/{id}", "region.page", view)
        .activity(
            GET,
            "/page/patients/{id}/documents/{document}",
            "region.page.document",
            view,
        )
        .activity(GET, "/link-reviews", "region.link-review.list", link)
        .activity(
            POST,
            "/link-reviews/{id}/confirm",
            "region.link-review.confirm",
            link,
        )
        .activity(
            POST,
            "/link-reviews/{id}/reject",
            "region.link-review.reject",
            link,
        )
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(summary::summary)
        .service(summary::content)
        .service(fhir::capability_statement)
        .service(fhir::everything)
        .service(page::login)
        .service(page::session)
        .service(page::patient_page)
        .service(page::document_page)
        .service(reviews::list)
        .service(reviews::confirm_link)
        .service(reviews::reject_link);
}

/// A patient id in a path: a UUID.
pub(crate) fn patient_id(s: &str) -> Result<tessera_patients::PatientId, ApiError> {
    tessera_patients::PatientId::parse(s).ok_or_else(|| {
        ApiError::validation(vec![tessera_edge::problem::FieldError::new(
            "id",
            "format",
            "a patient id (UUID)",
        )])
    })
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
            doc["paths"]["/patients/{id}/summary"]["get"]["x-activities"],
            serde_json::json!(["B0820"])
        );
    }
}
