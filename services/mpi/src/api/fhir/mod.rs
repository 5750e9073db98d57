//! FHIR R4 UK Core `Patient`: read, search (Bundle), create, update; `application/fhir+json`;
//! errors as `OperationOutcome`. Mapping is to and from the same domain types as the JSON API.
mod map;
pub(super) mod search;

pub use map::{from_fhir, to_fhir};

use super::auth::Caller;
use super::idempotent;
use super::problem::{ApiError, Flavour};
use super::usecases;
use crate::domain::{DemographicsInput, Patient, PatientId};
use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use map::FHIR_JSON;
use serde_json::{json, Value};
use tessera_edge::StoredResponse;
use tessera_fhir::version::if_match;

fn fhir_response(status: StatusCode, p: &Patient) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(FHIR_JSON)
        .insert_header(("ETag", tessera_fhir::version::etag(p.version)))
        .insert_header((
            "Location",
            format!("/fhir/Patient/{}/_history/{}", p.id, p.version),
        ))
        .body(to_fhir(p).to_string())
}

fn parse_resource(body: &[u8]) -> Result<DemographicsInput, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    from_fhir(&v).map_err(ApiError::validation)
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("Idempotency-Key" = Option<String>, Header)
    ),
    request_body(content = Object, content_type = "application/fhir+json", description = "A Patient (UK Core)"),
    responses(
        (status = 201, description = "The Patient as registered", content_type = "application/fhir+json", body = Object),
        (status = 409, description = "The NHS number belongs to another patient", content_type = "application/fhir+json", body = tessera_edge::problem::OperationOutcome)
    )
)]
#[post("/fhir/Patient")]
pub async fn create(
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (auth, key, input) =
        idempotent::begin_registration(caller, &req, &body, Flavour::Fhir, parse_resource).await?;
    idempotent::run(&auth, key, &body, |key| async {
        let (p, _, _) = usecases::register(&auth, input, key).await?;
        Ok(StoredResponse {
            status: 201,
            content_type: FHIR_JSON.into(),
            location: Some(format!("/fhir/Patient/{}/_history/{}", p.id, p.version)),
            body: to_fhir(&p).to_string(),
        })
    })
    .await
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The patient")
    ),
    responses(
        (status = 200, description = "The Patient", content_type = "application/fhir+json", body = Object)
    )
)]
#[get("/fhir/Patient/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let Some(id) = PatientId::parse(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    // A merged-away id answers with its own record, inactive, with a `replaced-by` link to
    // the survivor (FHIR's way); never a 404.
    let read = usecases::read(&auth, id).await?;
    Ok(fhir_response(StatusCode::OK, &read.record))
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The patient"),
        ("If-Match" = Option<String>, Header)
    ),
    request_body(content = Object, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "The Patient as updated", content_type = "application/fhir+json", body = Object),
        (status = 409, description = "Conflict", content_type = "application/fhir+json", body = tessera_edge::problem::OperationOutcome),
        (status = 412, description = "If-Match does not match", content_type = "application/fhir+json", body = tessera_edge::problem::OperationOutcome)
    )
)]
#[put("/fhir/Patient/{id}")]
pub async fn update(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let Some(id) = PatientId::parse(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    let parsed = (|| {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
        if v.get("id").and_then(Value::as_str) != Some(path.as_str()) {
            return Err(ApiError::bad_request(
                "the resource's id must match the URL",
            ));
        }
        let input = from_fhir(&v).map_err(ApiError::validation)?;
        Ok((if_match(&req)?, input))
    })();
    let (version, input) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, Some(id.to_string()), e).await,
    };
    let p = usecases::update(&auth, id, input, version).await?;
    Ok(fhir_response(StatusCode::OK, &p))
}

const MATCH_GRADE: &str = "http://hl7.org/fhir/StructureDefinition/match-grade";
const MATCH_EXPLANATION: &str = "https://tessera.nhs.uk/StructureDefinition/match-explanation";

/// `POST /fhir/Patient/$match`: a `Parameters` with `resource` (a Patient), optional `count`
/// and `onlyCertainMatches`; answers a Bundle of candidates with `search.score`, the
/// match-grade extension, and each field's contribution as an extension.
#[utoipa::path(
    tag = "fhir",
    request_body(content = Object, content_type = "application/fhir+json", description = "A Parameters resource with a Patient"),
    responses(
        (status = 200, description = "A searchset Bundle of scored candidates", content_type = "application/fhir+json", body = Object)
    )
)]
#[post("/fhir/Patient/$match")]
pub async fn match_operation(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let parsed = (|| {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
        if v.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
            return Err(ApiError::bad_request("$match takes a Parameters resource"));
        }
        let params: Vec<&Value> = v
            .get("parameter")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let find = |name: &str| {
            params
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
                .copied()
        };
        let resource = find("resource")
            .and_then(|p| p.get("resource"))
            .ok_or_else(|| {
                ApiError::bad_request("the resource parameter (a Patient) is required")
            })?;
        let input = from_fhir(resource).map_err(ApiError::validation)?;
        let count = find("count")
            .and_then(|p| p.get("valueInteger"))
            .and_then(Value::as_u64)
            .unwrap_or(10)
            .clamp(1, 50) as usize;
        let only_certain = find("onlyCertainMatches")
            .and_then(|p| p.get("valueBoolean"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let name = input.names.first();
        let home = input
            .addresses
            .iter()
            .find(|a| a.period_end.is_none())
            .or(input.addresses.first());
        let probe = super::matches::probe(
            input.nhs_number.as_deref(),
            name.and_then(|n| n.given.first().cloned()),
            name.map(|n| n.family.clone()).filter(|f| !f.is_empty()),
            input.birth_date.as_deref(),
            input.administrative_sex.clone(),
            home.map(|a| {
                let mut parts = a.lines.clone();
                parts.extend(a.city.clone());
                parts.join(" ")
            }),
            home.and_then(|a| a.postcode.clone()),
        )?;
        Ok((probe, count, only_certain))
    })();
    let (probe, count, only_certain) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let mut candidates = usecases::match_patient(&auth, probe, count).await?;
    if only_certain {
        candidates.retain(|c| c.grade == "certain");
    }
    let entries: Vec<Value> = candidates
        .iter()
        .map(|c| {
            let contributions: Vec<Value> = c
                .explanation
                .fields
                .iter()
                .map(|f| json!({ "url": f.field, "valueString": format!("{} {:+.2}", f.level, f.weight) }))
                .collect();
            json!({
                "fullUrl": format!("/fhir/Patient/{}", c.patient.id),
                "resource": to_fhir(&c.patient),
                "search": {
                    "mode": "match",
                    "score": (c.probability * 1000.0).round() / 1000.0,
                    "extension": [
                        { "url": MATCH_GRADE, "valueCode": c.grade },
                        { "url": MATCH_EXPLANATION, "extension": contributions }
                    ]
                }
            })
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries });
    Ok(HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .body(bundle.to_string()))
}
