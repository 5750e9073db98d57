//! Merge, unmerge and the possible-match review queue (JSON API).
use super::auth::Caller;
use super::patients::{json_body, parse_body, patient_id};
use super::problem::{ApiError, Flavour};
use super::usecases;
use crate::store::merges::Merge;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;
use tessera_access::Activity;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeInput {
    survivor_id: String,
    merged_id: String,
}

fn merge_json(m: &Merge) -> serde_json::Value {
    serde_json::to_value(m).unwrap_or_default()
}

/// `POST /merges`: merge `merged_id` into `survivor_id`.
pub async fn create(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize("patient.merge", Activity::AMEND_DEMOGRAPHICS, Flavour::Json)
        .await?;
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
        .json(serde_json::json!({ "merge": merge_json(&m), "survivor": json_body(&p) })))
}

/// `POST /merges/{id}/unmerge`.
pub async fn unmerge(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "patient.unmerge",
            Activity::AMEND_DEMOGRAPHICS,
            Flavour::Json,
        )
        .await?;
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    let (m, survivor, restored) = usecases::unmerge(&auth, id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "merge": merge_json(&m),
        "survivor": json_body(&survivor),
        "restored": json_body(&restored),
    })))
}

/// `GET /patients/{id}/merges`: merges the patient took part in, newest first.
pub async fn of_patient(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize("patient.merges", Activity::VIEW_DEMOGRAPHICS, Flavour::Json)
        .await?;
    let id = match patient_id(&path) {
        Ok(id) => id,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let merges = usecases::merges_of(&auth, id).await?;
    let body: Vec<_> = merges.iter().map(merge_json).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "count": body.len(), "merges": body })))
}

/// `GET /match-reviews?status=open|confirmed|rejected&limit=`.
pub async fn list_reviews(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize("review.list", Activity::VIEW_DEMOGRAPHICS, Flavour::Json)
        .await?;
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "count": items.len(), "reviews": items })))
}

#[derive(Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DecisionInput {
    survivor_id: Option<String>,
    reason: Option<String>,
}

async fn decide(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
    confirm: bool,
) -> Result<HttpResponse, ApiError> {
    let action = if confirm {
        "review.confirm"
    } else {
        "review.reject"
    };
    let auth = caller
        .authorize(action, Activity::AMEND_DEMOGRAPHICS, Flavour::Json)
        .await?;
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
    let (review, merge) = usecases::decide_review(&auth, id, confirm, survivor, reason).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "review": review,
        "merge": merge.as_ref().map(merge_json),
    })))
}

/// `POST /match-reviews/{id}/confirm`: the pair is one person; merge them.
pub async fn confirm(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    decide(caller, path, body, true).await
}

/// `POST /match-reviews/{id}/reject`: two people; never offer the pair again.
pub async fn reject(
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    decide(caller, path, body, false).await
}

/// `GET /match-settings`: the trust's thresholds and weights.
pub async fn settings(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize("match.settings", Activity::VIEW_DEMOGRAPHICS, Flavour::Json)
        .await?;
    Ok(HttpResponse::Ok().json(usecases::match_settings(&auth).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsInput {
    link: f64,
    review: f64,
    #[serde(default)]
    auto_link: Option<bool>,
}

/// `PUT /match-settings/thresholds`: `{ "link": 12, "review": 5, "auto_link": false }` (bits).
pub async fn set_thresholds(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "match.thresholds",
            Activity::AMEND_DEMOGRAPHICS,
            Flavour::Json,
        )
        .await?;
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

#[derive(Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TrainInput {
    sample: Option<u64>,
}

/// `POST /match-settings/train`: learn the weights from the trust's own records.
pub async fn train(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize("match.train", Activity::AMEND_DEMOGRAPHICS, Flavour::Json)
        .await?;
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
