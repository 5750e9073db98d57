//! Relationships (claimed by hand, listed, ended) and their end rules; the claim's use case is
//! `app::relationships`'.
use super::support::{patient_id, Caller};
use crate::app::relationships::{self as app, Claim};
use crate::app::{audited, invalid, refuse};
use crate::domain::{holder, origin_of, RelationshipId};
use crate::store::{self, Relationship};
use actix_web::{get, post, put};
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct Relationships {
    relationships: Vec<Relationship>,
}

/// Days a relationship outlives what created it, per origin (`referral`, `admission`,
/// `appointment`).
#[derive(Serialize, ToSchema)]
pub struct GraceDays {
    grace_days: BTreeMap<String, i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    patient_id: String,
    /// AccessReasonCode, 01–17.
    reason_code: String,
    justification: String,
    /// For colleague-granted (15–17) and patient-consent (07–14) relationships: who gets it.
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    days: Option<i64>,
}

/// Claims a relationship by hand. A self-claimed one raises an alert for the privacy officer.
#[utoipa::path(
    tag = "relationships",
    responses((status = 201, description = "The relationship (a self-claimed one also raises an alert)", body = Relationship))
)]
#[post("/relationships")]
pub async fn claim(
    caller: Caller,
    state: web::Data<super::AppState>,
    body: web::Json<ClaimBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let patient = match patient_id(&b.patient_id) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let Some(origin) = origin_of(&b.reason_code) else {
        let e = invalid("reason_code", "code", "an AccessReasonCode from 01 to 17");
        return refuse(&auth, Some(patient), e).await;
    };
    if b.justification.trim().is_empty() {
        let e = invalid(
            "justification",
            "required",
            "say why the relationship is needed",
        );
        return refuse(&auth, Some(patient), e).await;
    }
    let max = state.config.relationships.max_claim_days;
    let days = b.days.unwrap_or(max);
    if !(1..=max).contains(&days) {
        let e = invalid("days", "range", &format!("from 1 to {max} days"));
        return refuse(&auth, Some(patient), e).await;
    }
    let me = auth.identity.user_id.clone();
    let holder = holder(origin, &me, b.user_id.as_deref(), b.team.as_deref())
        .map_err(|e| ApiError::validation(vec![e]));
    let (user_id, team) = match holder {
        Ok(h) => h,
        Err(e) => return refuse(&auth, Some(patient), e).await,
    };
    let c = Claim {
        patient_id: patient,
        user_id,
        team,
        origin,
        reason_code: b.reason_code.clone(),
        justification: b.justification.trim().to_string(),
        days,
    };
    let r = app::claim(&auth, c).await?;
    Ok(HttpResponse::Created().json(r))
}

#[utoipa::path(
    tag = "relationships",
    params(("patient_id" = String, Query, description = "The patient")),
    responses((status = 200, description = "The patient's relationships", body = Relationships))
)]
#[get("/relationships")]
pub async fn list(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match patient_id(q.get("patient_id").map(String::as_str).unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let p = patient;
    let rs = audited(&auth, Some(patient), move |txn| {
        Box::pin(async move { store::relationships_of(txn, &p).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Relationships { relationships: rs }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EndBody {
    reason: Option<String>,
}

#[utoipa::path(
    tag = "relationships",
    params(("id" = uuid::Uuid, Path, description = "The relationship")),
    request_body(content = Option<EndBody>, description = "Why (optional)"),
    responses((status = 200, description = "The relationship, ended", body = Relationship))
)]
#[post("/relationships/{id}/end")]
pub async fn end(
    caller: Caller,
    path: web::Path<String>,
    body: Option<web::Json<EndBody>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let Some(id) = RelationshipId::parse(&path) else {
        return refuse(
            &auth,
            None,
            invalid("id", "format", "a relationship id (UUID)"),
        )
        .await;
    };
    let reason = body
        .and_then(|b| b.into_inner().reason)
        .unwrap_or_else(|| "ended by hand".into());
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let r = audited(&auth, None, move |txn| {
        Box::pin(async move {
            store::end_relationship(txn, &tenant, id, Utc::now(), &reason, Some(&trace)).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

#[utoipa::path(
    tag = "relationships",
    responses((status = 200, description = "Grace days per origin", body = GraceDays))
)]
#[get("/relationship-rules")]
pub async fn list_rules(
    caller: Caller,
    state: web::Data<super::AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let default = state.config.relationships.default_grace_days;
    let rules = audited(&auth, None, |txn| {
        Box::pin(async move { store::rules(txn).await })
    })
    .await?;
    let mut grace_days = BTreeMap::new();
    for origin in ["referral", "admission", "appointment"] {
        grace_days.insert(origin.to_string(), default);
    }
    grace_days.extend(rules);
    Ok(HttpResponse::Ok().json(GraceDays { grace_days }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    grace_days: i32,
}

#[utoipa::path(
    tag = "relationships",
    params(("origin" = String, Path, description = "referral, admission or appointment")),
    responses((status = 204, description = "Set"))
)]
#[put("/relationship-rules/{origin}")]
pub async fn put_rule(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<RuleBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let origin = path.into_inner();
    if !["referral", "admission", "appointment"].contains(&origin.as_str()) {
        return refuse(
            &auth,
            None,
            invalid("origin", "code", "referral, admission or appointment"),
        )
        .await;
    }
    let days = body.grace_days;
    if !(0..=3650).contains(&days) {
        return refuse(
            &auth,
            None,
            invalid("grace_days", "range", "0 to 3650 days"),
        )
        .await;
    }
    audited(&auth, None, move |txn| {
        Box::pin(async move { store::set_rule(txn, &origin, days).await })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
