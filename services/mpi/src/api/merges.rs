//! Merge, unmerge and the possible-match review queue (JSON API).
use super::auth::Caller;
use super::patients::{parse_body, patient_id};
use super::problem::{ApiError, Flavour};
use super::usecases;
use super::views::{Decided, Merged, Merges, PatientView, Reviews, Unmerged};
use actix_web::{get, post, put, web, HttpResponse};
use std::collections::HashMap;

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    survivor_id: String,
    merged_id: String,
}

/// `POST /merges`: merge `merged_id` into `survivor_id`.
#[utoipa::path(
    tag = "merges",
    request_body(content = MergeInput),
    responses(
        (status = 201, description = "Merged", body = Merged),
        (status = 409, description = "Already merged, or the same record", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/merges")]
pub async fn create(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let parsed = parse_body::<MergeInput>(&body).and_then(|m| {
        let unknown = |f: &str| {
            super::problem::validation(vec![crate::domain::FieldError {
                field: f.into(),
                code: "patient-id".into(),
                message: "a patient id (UUID)".into(),
            }])
        };
        let s = crate::domain::PatientId::parse(&m.survivor_id)
            .ok_or_else(|| unknown("survivor_id"))?;
        let g =
            crate::domain::PatientId::parse(&m.merged_id).ok_or_else(|| unknown("merged_id"))?;
        Ok((s, g))
    });
    let (survivor, merged) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let (m, p) = usecases::merge(&auth, survivor, merged).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/merges/{}", m.id)))
        .json(Merged {
            merge: m,
            survivor: PatientView::from(&p),
        }))
}

/// `POST /merges/{id}/unmerge`.
#[utoipa::path(
    tag = "merges",
    params(
        ("id" = uuid::Uuid, Path, description = "The merge")
    ),
    responses(
        (status = 200, description = "Unmerged: both records as they were", body = Unmerged),
        (status = 409, description = "Already unmerged, or a later merge depends on it", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/merges/{id}/unmerge")]
pub async fn unmerge(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    let (m, survivor, restored) = usecases::unmerge(&auth, id).await?;
    Ok(HttpResponse::Ok().json(Unmerged {
        merge: m,
        survivor: PatientView::from(&survivor),
        restored: PatientView::from(&restored),
    }))
}

/// `GET /patients/{id}/merges`: merges the patient took part in, newest first.
#[utoipa::path(
    tag = "merges",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient")
    ),
    responses(
        (status = 200, description = "Merges the patient took part in, newest first", body = Merges)
    )
)]
#[get("/patients/{id}/merges")]
pub async fn of_patient(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let id = match patient_id(&path) {
        Ok(id) => id,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let merges = usecases::merges_of(&auth, id).await?;
    Ok(HttpResponse::Ok().json(Merges {
        count: merges.len(),
        merges,
    }))
}

/// `GET /match-reviews?status=open|confirmed|rejected&limit=`.
#[utoipa::path(
    tag = "matching",
    params(
        ("status" = Option<String>, Query, description = "open (default), confirmed or rejected"),
        ("limit" = Option<u32>, Query)
    ),
    responses(
        (status = 200, description = "Possible matches waiting for a person", body = Reviews)
    )
)]
#[get("/match-reviews")]
pub async fn list_reviews(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let status = q.get("status").cloned().unwrap_or_else(|| "open".into());
    if !["open", "confirmed", "rejected"].contains(&status.as_str()) {
        return usecases::refuse(
            &auth,
            None,
            ApiError::bad_request("status is one of open, confirmed, rejected"),
        )
        .await;
    }
    let limit = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let items = usecases::reviews(&auth, status, limit).await?;
    Ok(HttpResponse::Ok().json(Reviews {
        count: items.len(),
        reviews: items,
    }))
}

#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionInput {
    survivor_id: Option<String>,
    reason: Option<String>,
}

async fn decide(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
    is_confirm: bool,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    let input = if body.is_empty() {
        Ok(DecisionInput::default())
    } else {
        parse_body::<DecisionInput>(&body)
    };
    let parsed = input.and_then(|d| {
        let survivor = match d.survivor_id {
            None => None,
            Some(s) => Some(crate::domain::PatientId::parse(&s).ok_or_else(|| {
                super::problem::validation(vec![crate::domain::FieldError {
                    field: "survivor_id".into(),
                    code: "patient-id".into(),
                    message: "a patient id (UUID)".into(),
                }])
            })?),
        };
        Ok((survivor, d.reason))
    });
    let (survivor, reason) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let (review, merge) = usecases::decide_review(&auth, id, is_confirm, survivor, reason).await?;
    Ok(HttpResponse::Ok().json(Decided { review, merge }))
}

/// `POST /match-reviews/{id}/confirm`: the pair is one person; merge them.
#[utoipa::path(
    tag = "matching",
    params(
        ("id" = uuid::Uuid, Path, description = "The review")
    ),
    request_body(content = Option<DecisionInput>),
    responses(
        (status = 200, description = "Confirmed and merged", body = Decided),
        (status = 409, description = "Already decided", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/match-reviews/{id}/confirm")]
pub async fn confirm(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    decide(caller, path, body, true).await
}

/// `POST /match-reviews/{id}/reject`: two people; never offer the pair again.
#[utoipa::path(
    tag = "matching",
    params(
        ("id" = uuid::Uuid, Path, description = "The review")
    ),
    request_body(content = Option<DecisionInput>),
    responses(
        (status = 200, description = "Rejected: two people, never offered again", body = Decided),
        (status = 409, description = "Already decided", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/match-reviews/{id}/reject")]
pub async fn reject(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    decide(caller, path, body, false).await
}

/// `GET /match-settings`: the trust's thresholds and weights.
#[utoipa::path(
    tag = "matching",
    responses(
        (status = 200, description = "The trust's thresholds and weights", body = usecases::MatchSettings)
    )
)]
#[get("/match-settings")]
pub async fn settings(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    Ok(HttpResponse::Ok().json(usecases::match_settings(&auth).await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsInput {
    link: f64,
    review: f64,
    #[serde(default)]
    auto_link: Option<bool>,
}

/// `PUT /match-settings/thresholds`: `{ "link": 12, "review": 5, "auto_link": false }` (bits).
#[utoipa::path(
    tag = "matching",
    request_body(content = ThresholdsInput),
    responses(
        (status = 200, description = "The settings now", body = usecases::MatchSettings)
    )
)]
#[put("/match-settings/thresholds")]
pub async fn set_thresholds(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let (t, auto_link) = match parse_body::<ThresholdsInput>(&body) {
        Ok(t) => (
            tessera_matching::Thresholds {
                link: t.link,
                review: t.review,
            },
            t.auto_link,
        ),
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(usecases::set_thresholds(&auth, t, auto_link).await?))
}

#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TrainInput {
    sample: Option<u64>,
}

/// `POST /match-settings/train`: learn the weights from the trust's own records.
#[utoipa::path(
    tag = "matching",
    request_body(content = Option<TrainInput>),
    responses(
        (status = 200, description = "Weights learned from the trust's own records", body = usecases::MatchSettings)
    )
)]
#[post("/match-settings/train")]
pub async fn train(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let input = if body.is_empty() {
        Ok(TrainInput::default())
    } else {
        parse_body::<TrainInput>(&body)
    };
    let sample = match input {
        Ok(t) => t.sample.unwrap_or(200_000).clamp(1, 1_000_000),
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(usecases::train(&auth, sample).await?))
}
