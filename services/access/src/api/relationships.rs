//! Teams and caseloads, relationships (claimed by hand, listed, ended), end rules,
//! break-glass, and the privacy officer's alert queue.
use super::support::{audited, audited_for_patient, code, invalid, patient_id, refuse, Caller};
use crate::store::{
    self, Alert, BreakGlassGrant, NewBreakGlass, NewRelationship, Relationship, Team,
};
use actix_web::{get, post, put};
use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct Teams {
    teams: Vec<Team>,
}

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
pub struct TeamBody {
    name: String,
}

#[utoipa::path(
    tag = "teams",
    params(("code" = String, Path, description = "The team's code")),
    responses((status = 200, description = "The team as stored", body = Team))
)]
#[put("/teams/{code}")]
pub async fn put_team(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TeamBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let team = match code("code", &path) {
        Ok(c) => c,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let name = body.into_inner().name;
    if name.trim().is_empty() {
        return refuse(&auth, None, invalid("name", "required", "a team name")).await;
    }
    let t = audited(&auth, None, move |txn| {
        Box::pin(async move {
            store::upsert_team(txn, &team, name.trim()).await?;
            store::teams(txn, Some(&team)).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(t.into_iter().next()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    members: Vec<String>,
}

#[utoipa::path(
    tag = "teams",
    params(("code" = String, Path, description = "The team's code")),
    responses((status = 200, description = "The team with its members", body = Team))
)]
#[put("/teams/{code}/members")]
pub async fn put_members(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<MembersBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let team = match code("code", &path) {
        Ok(c) => c,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let members: Result<Vec<String>, ApiError> = body
        .into_inner()
        .members
        .iter()
        .map(|m| code("members", m))
        .collect();
    let members = match members {
        Ok(m) => m,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let t = audited(&auth, None, move |txn| {
        Box::pin(
            async move { store::set_members(txn, &tenant, &team, &members, Some(&trace)).await },
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(t))
}

#[utoipa::path(
    tag = "teams",
    responses((status = 200, description = "Every team of the caller's trust", body = Teams))
)]
#[get("/teams")]
pub async fn list_teams(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let t = audited(&auth, None, |txn| {
        Box::pin(async move { store::teams(txn, None).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Teams { teams: t }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseloadBody {
    patient_id: String,
}

/// Puts a patient on a team's caseload: a relationship for the team, open until ended.
#[utoipa::path(
    tag = "teams",
    params(("code" = String, Path, description = "The team's code")),
    responses((status = 201, description = "The team's relationship with the patient", body = Relationship))
)]
#[post("/teams/{code}/caseload")]
pub async fn add_to_caseload(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CaseloadBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (team, patient) = match (code("team", &path), patient_id(&body.patient_id)) {
        (Ok(t), Ok(p)) => (t, p),
        (Err(e), _) | (_, Err(e)) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let by = auth.identity.user_id.clone();
    let r = audited_for_patient(&auth, patient.clone(), move |txn| {
        Box::pin(async move {
            if store::teams(txn, Some(&team)).await?.is_empty() {
                return Err(store::StoreError::NotFound);
            }
            store::grant_relationship(
                txn,
                &tenant,
                NewRelationship {
                    patient_id: patient,
                    user_id: None,
                    team: Some(team.clone()),
                    starts_at: Utc::now(),
                    ends_at: None,
                    origin: "caseload",
                    reason_code: None,
                    justification: None,
                    source: Some(format!("caseload:{team}")),
                    created_by: by,
                },
                Some(&trace),
            )
            .await
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(r))
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

/// The origin an AccessReasonCode gives a manual relationship (MIM 3.1.09).
pub fn origin_of(reason_code: &str) -> Option<&'static str> {
    let n: u8 = reason_code
        .parse()
        .ok()
        .filter(|_| reason_code.len() == 2)?;
    match n {
        1..=6 => Some("self-claimed"),
        7..=14 => Some("patient-consent"),
        15..=17 => Some("colleague-granted"),
        _ => None,
    }
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
    let holder = match (origin, b.user_id.as_deref(), b.team.as_deref()) {
        ("self-claimed", None, None) => Ok((Some(me.clone()), None)),
        ("self-claimed", Some(u), None) if u == me => Ok((Some(me.clone()), None)),
        ("self-claimed", _, _) => Err(invalid(
            "user_id",
            "self-claimed",
            "reason codes 01–06 claim for yourself: leave user_id and team out",
        )),
        (_, Some(u), None) => code("user_id", u).map(|u| (Some(u), None)),
        (_, None, Some(t)) => code("team", t).map(|t| (None, Some(t))),
        ("patient-consent", None, None) => Ok((Some(me.clone()), None)),
        _ => Err(invalid(
            "user_id",
            "holder",
            "name exactly one of user_id or team for a colleague-granted relationship",
        )),
    };
    let (user_id, team) = match holder {
        Ok(h) => h,
        Err(e) => return refuse(&auth, Some(patient), e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let role = auth.identity.role.job_role.clone();
    let reason_code = b.reason_code.clone();
    let justification = b.justification.trim().to_string();
    let now = Utc::now();
    let pid = patient.clone();
    let r = audited_for_patient(&auth, patient, move |txn| {
        Box::pin(async move {
            let r = store::grant_relationship(
                txn,
                &tenant,
                NewRelationship {
                    patient_id: pid.clone(),
                    user_id,
                    team,
                    starts_at: now,
                    ends_at: Some(now + Duration::days(days)),
                    origin,
                    reason_code: Some(reason_code.clone()),
                    justification: Some(justification.clone()),
                    source: None,
                    created_by: me.clone(),
                },
                Some(&trace),
            )
            .await?;
            if origin == "self-claimed" {
                store::raise_alert(
                    txn,
                    &tenant,
                    "self-claimed",
                    r.id,
                    &pid,
                    &me,
                    &role,
                    &reason_code,
                    &justification,
                    r.ends_at,
                    Some(&trace),
                )
                .await?;
            }
            Ok(r)
        })
    })
    .await?;
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
    let p = patient.clone();
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
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
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
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let n = NewBreakGlass {
        patient_id: patient.clone(),
        user_id: auth.identity.user_id.clone(),
        role_code: auth.identity.role.job_role.clone(),
        reason_code: b.reason_code,
        justification: b.justification.trim().to_string(),
        duration: Duration::seconds(secs),
    };
    let (grant, alert) = audited_for_patient(&auth, patient, move |txn| {
        Box::pin(async move { store::grant_break_glass(txn, &tenant, n, Some(&trace)).await })
    })
    .await?;
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
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
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
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
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

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn reason_codes_give_origins() {
        assert_eq!(origin_of("01"), Some("self-claimed"));
        assert_eq!(origin_of("06"), Some("self-claimed"));
        assert_eq!(origin_of("07"), Some("patient-consent"));
        assert_eq!(origin_of("14"), Some("patient-consent"));
        assert_eq!(origin_of("15"), Some("colleague-granted"));
        assert_eq!(origin_of("17"), Some("colleague-granted"));
        for bad in ["00", "18", "1", "001", "ab", ""] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }
}
