//! The clinical documentation service's HTTP API (JSON): documents and their versions,
//! sign-off, amendment and entered-in-error marks under `If-Match`; search; document types,
//! templates and assessments. Handlers parse, authorise, run one use case of `app`, and
//! answer.
mod attachments;
mod bodies;
mod documents;
pub mod errors;
mod fhir;
mod search;
mod templates;

use crate::domain::DocumentId;
use crate::store::Applied;
use actix_web::http::{header, Method};
use actix_web::{HttpRequest, HttpResponse};
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use tessera_edge::problem::ApiError;
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
    title: "Tessera clinical documentation",
    description: "Clinical documents about a patient — letters, discharge summaries, progress notes, assessments — each change a new version, never overwritten or deleted, each version retrievable byte for byte with who made it and why; sign-off by the author and countersignature where the type asks; amendments with a reason; entered-in-error marks that keep the content; `ETag`/`If-Match` on every change (412 with the current version when stale, 428 without). Templates are versioned; assessments keep the version they used and are signed section by section; NEWS2 is scored as the RCP chart says. Every read and write is decided on the caller's legitimate relationship and the document's seal, and audited. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md).",
};

/// Every route's action and the activity the caller's selected role needs: the one place
/// the gate and the API document read it from (ADR 26).
pub fn operations(config: &crate::Config) -> Operations {
    let (doc, tpl) = (
        &config.roles.document_activity,
        &config.roles.template_activity,
    );
    Operations::new()
        .activity(POST, "/documents", "document.create", doc)
        .activity(GET, "/documents", "document.search", doc)
        .activity(GET, "/documents/{id}", "document.read", doc)
        .activity(PUT, "/documents/{id}", "document.edit", doc)
        .activity(GET, "/documents/{id}/versions", "document.versions", doc)
        .activity(
            GET,
            "/documents/{id}/versions/{version}",
            "document.version",
            doc,
        )
        .activity(
            GET,
            "/documents/{id}/versions/{version}/content",
            "document.content",
            doc,
        )
        .activity(
            GET,
            "/documents/{id}/versions/{version}/pdf",
            "document.pdf",
            doc,
        )
        .activity(POST, "/documents/{id}/sign", "document.sign", doc)
        .activity(
            POST,
            "/documents/{id}/countersign",
            "document.countersign",
            doc,
        )
        .activity(
            POST,
            "/documents/{id}/entered-in-error",
            "document.entered-in-error",
            doc,
        )
        .activity(POST, "/documents/{id}/attachments", "attachment.add", doc)
        .activity(GET, "/documents/{id}/attachments", "attachment.list", doc)
        .activity(
            GET,
            "/documents/{id}/attachments/{attachment}",
            "attachment.read",
            doc,
        )
        .activity(POST, "/assessments", "assessment.create", doc)
        .activity(
            PUT,
            "/documents/{id}/sections/{section}",
            "assessment.answer",
            doc,
        )
        .activity(
            POST,
            "/documents/{id}/sections/{section}/sign",
            "assessment.sign",
            doc,
        )
        .public(GET, "/fhir/metadata")
        .activity(
            GET,
            "/fhir/DocumentReference",
            "fhir.document-reference.search",
            doc,
        )
        .activity(
            GET,
            "/fhir/DocumentReference/{id}",
            "fhir.document-reference.read",
            doc,
        )
        .activity(
            GET,
            "/fhir/DocumentReference/{id}/_history",
            "fhir.document-reference.history",
            doc,
        )
        .activity(
            GET,
            "/fhir/DocumentReference/{id}/_history/{vid}",
            "fhir.document-reference.vread",
            doc,
        )
        .activity(GET, "/fhir/Composition/{id}", "fhir.composition.read", doc)
        .activity(
            GET,
            "/fhir/Composition/{id}/_history",
            "fhir.composition.history",
            doc,
        )
        .activity(
            GET,
            "/fhir/Composition/{id}/_history/{vid}",
            "fhir.composition.vread",
            doc,
        )
        .activity(
            GET,
            "/fhir/QuestionnaireResponse/{id}",
            "fhir.questionnaire-response.read",
            doc,
        )
        .activity(
            GET,
            "/fhir/QuestionnaireResponse/{id}/_history",
            "fhir.questionnaire-response.history",
            doc,
        )
        .activity(
            GET,
            "/fhir/QuestionnaireResponse/{id}/_history/{vid}",
            "fhir.questionnaire-response.vread",
            doc,
        )
        .activity(GET, "/fhir/Observation/{id}", "fhir.observation.read", doc)
        .activity(
            GET,
            "/fhir/Observation/{id}/_history",
            "fhir.observation.history",
            doc,
        )
        .activity(
            GET,
            "/fhir/Observation/{id}/_history/{vid}",
            "fhir.observation.vread",
            doc,
        )
        .activity(
            GET,
            "/fhir/Questionnaire/{id}",
            "fhir.questionnaire.read",
            doc,
        )
        .activity(
            GET,
            "/fhir/Questionnaire/{id}/_history",
            "fhir.questionnaire.history",
            doc,
        )
        .activity(
            GET,
            "/fhir/Questionnaire/{id}/_history/{vid}",
            "fhir.questionnaire.vread",
            doc,
        )
        .activity(PUT, "/document-types/{code}", "document-type.put", tpl)
        .activity(GET, "/document-types", "document-type.list", doc)
        .activity(POST, "/templates/{code}/versions", "template.save", tpl)
        .activity(GET, "/templates", "template.list", doc)
        .activity(GET, "/templates/{code}", "template.read", doc)
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    // A document's text is one JSON string, as long as the content allows.
    cfg.app_data(tessera_edge::input::TextLimit(
        crate::domain::document::MAX_CONTENT_BYTES,
    ));
    // An attachment is one body: up to the most any trust may allow.
    cfg.app_data(actix_web::web::PayloadConfig::new(attachments::MAX_BODY));
    cfg.service(documents::create)
        .service(search::search)
        .service(documents::read)
        .service(documents::edit)
        .service(documents::versions)
        .service(documents::version)
        .service(documents::content)
        .service(documents::pdf)
        .service(documents::sign)
        .service(documents::countersign)
        .service(documents::entered_in_error)
        .service(attachments::attach)
        .service(attachments::list)
        .service(attachments::read)
        .service(templates::assess)
        .service(templates::answer_section)
        .service(templates::sign_section)
        .service(fhir::capability_statement)
        .service(fhir::search_references)
        .service(fhir::read_reference)
        .service(fhir::reference_history)
        .service(fhir::vread_reference)
        .service(fhir::read_composition)
        .service(fhir::composition_history)
        .service(fhir::vread_composition)
        .service(fhir::read_response)
        .service(fhir::response_history)
        .service(fhir::vread_response)
        .service(fhir::read_observation)
        .service(fhir::observation_history)
        .service(fhir::vread_observation)
        .service(fhir::read_questionnaire)
        .service(fhir::questionnaire_history)
        .service(fhir::vread_questionnaire)
        .service(templates::put_type)
        .service(templates::types)
        .service(templates::save)
        .service(templates::list)
        .service(templates::read);
}

pub(crate) fn parse_id(s: &str) -> Result<DocumentId, ApiError> {
    uuid::Uuid::parse_str(s.trim())
        .map(DocumentId::from)
        .map_err(|_| {
            crate::app::domain_error(crate::domain::DomainError::invalid(
                "id",
                "format",
                "a document id (UUID)",
            ))
        })
}

/// The version the caller read (`If-Match`); a change without one is refused (428).
pub(crate) fn if_match(req: &HttpRequest) -> Result<i32, ApiError> {
    let v = tessera_fhir::version::if_match(req)?.ok_or_else(|| {
        ApiError::new(
            errors::IF_MATCH_REQUIRED,
            "send If-Match with the ETag of the version you read",
        )
    })?;
    i32::try_from(v).map_err(|_| ApiError::bad_request("If-Match: no such version"))
}

/// A change's answer: the new version with its `ETag`, or 412 with the current one.
pub(crate) fn answer(applied: Applied) -> Result<HttpResponse, ApiError> {
    match applied {
        Applied::Changed(d) => Ok(HttpResponse::Ok()
            .insert_header((
                header::ETAG,
                tessera_fhir::version::etag(i64::from(d.version)),
            ))
            .json(bodies::DocumentView::from(d))),
        Applied::Stale(d) => {
            let etag = tessera_fhir::version::etag(i64::from(d.version));
            let detail = format!(
                "version {} is the newest: read it (current, ETag {etag}) and apply your change to it",
                d.version
            );
            let body = serde_json::json!({
                "type": format!("https://tessera.nhs.uk/problems/{}", errors::STALE.code()),
                "title": "Precondition Failed",
                "status": 412,
                "code": errors::STALE.code(),
                "detail": detail,
                "current": bodies::DocumentView::from(d),
            });
            Ok(HttpResponse::PreconditionFailed()
                .insert_header((header::ETAG, etag))
                .content_type("application/problem+json")
                .json(body))
        }
    }
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
            doc["paths"]["/documents"]["post"]["x-activities"],
            serde_json::json!(["B0380"])
        );
    }
}
