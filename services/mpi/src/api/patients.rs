//! The JSON API's patients (`/patients`): register, read, history, update, search, and the
//! session's logout.
use super::auth::Caller;
use super::idempotent;
use super::problem::{ApiError, Flavour};
use super::usecases;
use super::views::{CandidateView, History, PatientPage, PatientView, ReadAnswer, Registered};
use crate::domain::{DemographicsInput, FieldError, Patient, PatientId};
use crate::store::SearchQuery;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use std::collections::HashMap;
use tessera_edge::StoredResponse;
use tessera_nhs::{NhsNumber, OdsCode};

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid: {e}")))
}

pub(super) fn patient_id(raw: &str) -> Result<PatientId, ApiError> {
    // Not a UUID cannot be a patient here: the same answer as an unknown id.
    PatientId::parse(raw).ok_or_else(ApiError::not_found)
}

fn etag(p: &Patient) -> String {
    tessera_fhir::version::etag(p.version)
}

#[utoipa::path(
    tag = "patients",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer")
    ),
    request_body(content = DemographicsInput),
    responses(
        (status = 201, description = "Registered; with records that may be the same person", body = Registered, headers(("Location" = String))),
        (status = 409, description = "The NHS number belongs to another patient, or the key was used with another body", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/patients")]
pub async fn register(
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (auth, key, input) = idempotent::begin_registration(
        caller,
        &req,
        &body,
        Flavour::Json,
        parse_body::<DemographicsInput>,
    )
    .await?;
    idempotent::run(&auth, key, &body, |key| async {
        let (p, _, possible) = usecases::register(&auth, input, key).await?;
        let body = Registered {
            patient: PatientView::from(&p),
            possible_duplicates: possible.iter().map(CandidateView::from).collect(),
        };
        Ok(StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            location: Some(format!("/patients/{}", p.id)),
            body: serde_json::to_string(&body).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await
}

#[utoipa::path(
    tag = "patients",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient")
    ),
    responses(
        (status = 200, description = "The patient (for a merged-away id, the survivor)", body = ReadAnswer, headers(("ETag" = String)))
    )
)]
#[get("/patients/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let id = match patient_id(&path) {
        Ok(id) => id,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let read = usecases::read(&auth, id).await?;
    let p = read.current();
    let mut body = ReadAnswer {
        patient: PatientView::from(p),
        requested_id: None,
        requested_record: None,
    };
    let mut response = HttpResponse::Ok();
    if read.survivor.is_some() {
        // A merged-away id answers with the survivor, saying so.
        body.requested_id = Some(id);
        body.requested_record = Some(PatientView::from(&read.record));
        response.insert_header(("Content-Location", format!("/patients/{}", p.id)));
    }
    Ok(response.insert_header(("ETag", etag(p))).json(body))
}

#[utoipa::path(
    tag = "patients",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient")
    ),
    responses(
        (status = 200, description = "Every version", body = History)
    )
)]
#[get("/patients/{id}/history")]
pub async fn history(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let id = match patient_id(&path) {
        Ok(id) => id,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let h = usecases::history(&auth, id).await?;
    Ok(HttpResponse::Ok().json(History {
        patient_id: id,
        versions: h,
    }))
}

#[utoipa::path(
    tag = "patients",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient"),
        ("If-Match" = Option<String>, Header, description = "The ETag read: update only if unchanged")
    ),
    request_body(content = DemographicsInput, description = "The whole record (replace); an identifier left out is kept, never dropped"),
    responses(
        (status = 200, description = "The patient as updated", body = PatientView, headers(("ETag" = String))),
        (status = 409, description = "The NHS number belongs to another patient, or the record was merged away", body = tessera_edge::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current version", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[put("/patients/{id}")]
pub async fn update(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let id = match patient_id(&path) {
        Ok(id) => id,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let parsed = tessera_fhir::version::if_match(&req)
        .and_then(|v| parse_body::<DemographicsInput>(&body).map(|b| (v, b)));
    let (version, input) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, Some(id.to_string()), e).await,
    };
    let p = usecases::update(&auth, id, input, version).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(&p)))
        .json(PatientView::from(&p)))
}

const FIND_PARAMS: &[&str] = &[
    "nhs_number",
    "local_number",
    "assigner",
    "family",
    "given",
    "birth_date",
    "sex",
    "postcode",
    "limit",
];

#[utoipa::path(
    tag = "patients",
    params(
        ("nhs_number" = Option<String>, Query),
        ("local_number" = Option<String>, Query, description = "With `assigner`"),
        ("assigner" = Option<String>, Query, description = "ODS code of the local number's trust"),
        ("family" = Option<String>, Query),
        ("given" = Option<String>, Query),
        ("birth_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("sex" = Option<String>, Query),
        ("postcode" = Option<String>, Query),
        ("limit" = Option<u32>, Query)
    ),
    responses(
        (status = 200, description = "Patients that match", body = PatientPage)
    )
)]
#[get("/patients")]
pub async fn find(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let q = q.into_inner();
    if let Some(unknown) = q.keys().find(|k| !FIND_PARAMS.contains(&k.as_str())) {
        return usecases::refuse(
            &auth,
            None,
            ApiError::bad_request(format!("unknown parameter {unknown}")),
        )
        .await;
    }
    let field_error = |field: &str, code: &str, message: String| {
        super::problem::validation(vec![FieldError {
            field: field.into(),
            code: code.into(),
            message,
        }])
    };
    let patients = if let Some(n) = q.get("nhs_number") {
        match NhsNumber::parse(n) {
            Ok(n) => usecases::find_by_nhs_number(&auth, n)
                .await?
                .into_iter()
                .collect(),
            Err(e) => {
                return usecases::refuse(
                    &auth,
                    None,
                    field_error("nhs_number", e.code(), e.to_string()),
                )
                .await
            }
        }
    } else if let Some(value) = q.get("local_number") {
        let assigner = match OdsCode::parse(
            q.get("assigner")
                .map(String::as_str)
                .unwrap_or(auth.tenant.as_str()),
        ) {
            Ok(a) => a,
            Err(e) => {
                return usecases::refuse(
                    &auth,
                    None,
                    field_error("assigner", "ods-code", e.to_string()),
                )
                .await
            }
        };
        usecases::find_by_local_number(&auth, assigner, value.trim().to_string())
            .await?
            .into_iter()
            .collect()
    } else {
        let query = match search_query(&q) {
            Ok(s) => s,
            Err(e) => return usecases::refuse(&auth, None, e).await,
        };
        usecases::search(&auth, query).await?.0
    };
    let patients: Vec<PatientView> = patients.iter().map(PatientView::from).collect();
    Ok(HttpResponse::Ok().json(PatientPage {
        count: patients.len(),
        patients,
    }))
}

fn search_query(q: &HashMap<String, String>) -> Result<SearchQuery, ApiError> {
    let birth_date = match q.get("birth_date") {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                super::problem::validation(vec![FieldError {
                    field: "birth_date".into(),
                    code: "date".into(),
                    message: "a date as YYYY-MM-DD".into(),
                }])
            })?,
        ),
    };
    let family = q.get("family").filter(|s| !s.trim().is_empty()).cloned();
    // A demographic search needs a family name or a date of birth: no browsing the index.
    if family.is_none() && birth_date.is_none() {
        return Err(ApiError::new(
            crate::api::errors::SEARCH_TOO_BROAD,
            "search by nhs_number, by local_number, or by family and/or birth_date",
        ));
    }
    Ok(SearchQuery {
        family,
        given: q.get("given").filter(|s| !s.trim().is_empty()).cloned(),
        born_from: birth_date,
        born_to: birth_date,
        offset: 0,
        sex: q.get("sex").cloned(),
        postcode: q.get("postcode").cloned(),
        limit: q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50),
    })
}

/// Ends the caller's session on every service (the revoked-session list).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "The session is ended on every service")
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    caller: Caller,
    state: web::Data<super::AppState>,
) -> Result<HttpResponse, ApiError> {
    let identity = caller.identity_for_logout()?;
    state
        .gate
        .revocations
        .revoke(&identity.session_id, identity.expires_at)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::NoContent().finish())
}
