//! The matcher's proposals: the trust's open ones, and a decision on one.
use super::Caller;
use crate::app::{refuse, reviews as app};
use crate::store::reviews::Review;
use actix_web::{get, post, web, HttpResponse};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, "format", message)])
}

#[utoipa::path(
    tag = "link reviews",
    params(("limit" = Option<u64>, Query, description = "1 to 500 (100)")),
    responses((status = 200, description = "Open proposals involving the caller's trust, oldest first: ids, score and each field's level, never the other trust's values", body = [Review]))
)]
#[get("/link-reviews")]
pub async fn list(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let mut limit = 100;
    for (k, v) in q.iter() {
        match k.as_str() {
            "limit" => match v.parse::<u64>() {
                Ok(n) if (1..=500).contains(&n) => limit = n,
                _ => return refuse(&auth, None, invalid("limit", "1 to 500")).await,
            },
            other => {
                let e = ApiError::bad_request(format!("unknown query parameter {other}"));
                return refuse(&auth, None, e).await;
            }
        }
    }
    Ok(HttpResponse::Ok().json(app::open(&auth, limit).await?))
}

async fn decide(caller: Caller, id: &str, yes: bool) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let Ok(id) = uuid::Uuid::parse_str(id.trim()) else {
        return refuse(&auth, None, invalid("id", "a proposal id (UUID)")).await;
    };
    Ok(HttpResponse::Ok().json(app::decide(&auth, id, yes).await?))
}

#[utoipa::path(
    tag = "link reviews",
    params(("id" = uuid::Uuid, Path, description = "The proposal")),
    responses(
        (status = 200, description = "Confirmed: the two records are one regional person", body = Review),
        (status = 404, description = "No open proposal with this id involves the caller's trust"),
        (status = 409, description = "Decided already, or one record has been merged away")
    )
)]
#[post("/link-reviews/{id}/confirm")]
pub async fn confirm_link(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, &path, true).await
}

#[utoipa::path(
    tag = "link reviews",
    params(("id" = uuid::Uuid, Path, description = "The proposal")),
    responses(
        (status = 200, description = "Rejected: the records stay apart", body = Review),
        (status = 404, description = "No open proposal with this id involves the caller's trust"),
        (status = 409, description = "Decided already")
    )
)]
#[post("/link-reviews/{id}/reject")]
pub async fn reject_link(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, &path, false).await
}
