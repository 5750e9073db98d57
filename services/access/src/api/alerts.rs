//! Break-glass (the use case is `app::relationships`') and the privacy officer's alert queue:
//! list, acknowledge, annotate.
use super::support::{patient_id, Caller};
use crate::app::{audited, invalid, refuse};
use crate::domain::{origin_of, AlertId};
use crate::store::{self, Alert, BreakGlassGrant, NewBreakGlass};
use actix_web::{get, post};
use actix_web::{web, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct BreakGlassAnswer {
    grant: BreakGlassGrant,
    alert_id: uuid::Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct Alerts {
    alerts: Vec<Alert>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    patient_id: String,
    reason_code: String,
    justification: String,
    #[serde(default)]
    duration_seconds: Option<i64>,
}

/// Emergency access: granted at once for a role with the override activity, time-boxed,
/// audited, and alerted.
#[utoipa::path(
    tag = "break-glass",
    responses((status = 201, description = "The grant, and the alert raised for the privacy officer", body = BreakGlassAnswer))
)]
#[post("/break-glass")]
pub async fn break_glass(
    caller: Caller,
    state: web::Data<super::AppState>,
    body: web::Json<BreakGlassBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let patient = match patient_id(&b.patient_id) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    if origin_of(&b.reason_code).is_none() {
        let e = invalid("reason_code", "code", "an AccessReasonCode from 01 to 17");
        return refuse(&auth, Some(patient), e).await;
    }
    if b.justification.trim().is_empty() {
        let e = invalid(
            "justification",
            "required",
            "say why emergency access is needed",
        );
        return refuse(&auth, Some(patient), e).await;
    }
    let cfg = &state.config.break_glass;
    let secs = b.duration_seconds.unwrap_or(cfg.default_seconds);
    if !(cfg.min_seconds..=cfg.max_seconds).contains(&secs) {
        let e = invalid(
            "duration_seconds",
            "range",
            &format!("from {} to {} seconds", cfg.min_seconds, cfg.max_seconds),
        );
        return refuse(&auth, Some(patient), e).await;
    }
    let n = NewBreakGlass {
        patient_id: patient,
        user_id: auth.identity.user_id.clone(),
        role_code: auth.identity.role.job_role.clone(),
        reason_code: b.reason_code,
        justification: b.justification.trim().to_string(),
        duration: Duration::seconds(secs),
    };
    let (grant, alert) = crate::app::relationships::break_glass(&auth, n).await?;
    // What the `TesseraBreakGlassSpike` alert watches.
    state
        .gate
        .metrics
        .break_glass
        .with_label_values(&[auth.tenant.as_str()])
        .inc();
    Ok(HttpResponse::Created().json(BreakGlassAnswer {
        grant,
        alert_id: alert,
    }))
}

#[utoipa::path(
    tag = "alerts",
    params(("status" = Option<String>, Query, description = "`all` for acknowledged alerts too; open ones otherwise")),
    responses((status = 200, description = "The privacy officer's queue", body = Alerts))
)]
#[get("/alerts")]
pub async fn list_alerts(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let open_only = q.get("status").map(String::as_str) != Some("all");
    let a = audited(&auth, None, move |txn| {
        Box::pin(async move { store::alerts(txn, open_only).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Alerts { alerts: a }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NoteBody {
    note: Option<String>,
}

#[utoipa::path(
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The alert")),
    request_body(content = Option<NoteBody>, description = "A note (optional)"),
    responses((status = 200, description = "The alert, acknowledged", body = Alert))
)]
#[post("/alerts/{id}/acknowledge")]
pub async fn acknowledge(
    caller: Caller,
    path: web::Path<String>,
    body: Option<web::Json<NoteBody>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let Some(id) = AlertId::parse(&path) else {
        return refuse(&auth, None, invalid("id", "format", "an alert id (UUID)")).await;
    };
    let note = body
        .and_then(|b| b.into_inner().note)
        .filter(|n| !n.trim().is_empty());
    let by = auth.identity.user_id.clone();
    let a = audited(&auth, None, move |txn| {
        Box::pin(async move { store::acknowledge_alert(txn, id, &by, note.as_deref()).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(a))
}

#[utoipa::path(
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The alert")),
    responses((status = 200, description = "The alert with the note", body = Alert))
)]
#[post("/alerts/{id}/notes")]
pub async fn annotate(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NoteBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let Some(id) = AlertId::parse(&path) else {
        return refuse(&auth, None, invalid("id", "format", "an alert id (UUID)")).await;
    };
    let Some(note) = body.into_inner().note.filter(|n| !n.trim().is_empty()) else {
        return refuse(&auth, None, invalid("note", "required", "the note")).await;
    };
    let by = auth.identity.user_id.clone();
    let a = audited(&auth, None, move |txn| {
        Box::pin(async move { store::annotate_alert(txn, id, &by, &note).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(a))
}
