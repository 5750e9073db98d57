//! The ADT exception list over JSON (ADR 33): what the trust's old PAS sent that PAS could
//! not apply, for a person to put right through the API and then mark resolved.
use super::bodies::id;
use super::Caller;
use crate::app::adt as app;
use crate::app::{domain_error, refuse};
use crate::store::adt::Exception;
use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_edge::tabular::only;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ExceptionList {
    exceptions: Vec<Exception>,
}

/// The open exceptions, oldest first.
#[utoipa::path(
    tag = "adt",
    params(("limit" = Option<u64>, Query, description = "1 to 1000 (100)")),
    responses((status = 200, description = "Open exceptions", body = ExceptionList))
)]
#[get("/adt/exceptions")]
pub async fn exceptions(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let parsed = only(&q, &["limit"]).and_then(|_| match q.get("limit") {
        None => Ok(100),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::validation(vec![FieldError::new("limit", "range", "1 to 1000")])
            }),
    });
    let limit = match parsed {
        Ok(l) => l,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let exceptions = app::exceptions(&auth, limit).await?;
    Ok(HttpResponse::Ok().json(ExceptionList { exceptions }))
}

/// Marks an exception resolved (once what it asked is done, or found not to be wanted).
#[utoipa::path(
    tag = "adt",
    params(("id" = uuid::Uuid, Path, description = "The exception")),
    responses((status = 200, description = "The exception, resolved", body = Exception))
)]
#[post("/adt/exceptions/{id}/resolve")]
pub async fn resolve(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let id = match id("id", &path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, domain_error(e)).await,
    };
    Ok(HttpResponse::Ok().json(app::resolve(&auth, id).await?))
}
