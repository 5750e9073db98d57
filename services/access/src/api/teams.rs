//! Teams, their members, and caseloads (a team's relationships with its patients).
use super::support::{code, patient_id, Caller};
use crate::app::{audited, audited_for_patient, invalid, refuse};
use crate::store::{self, NewRelationship, Relationship, Team};
use actix_web::{get, post, put};
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct Teams {
    teams: Vec<Team>,
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
    let r = audited_for_patient(&auth, patient, move |txn| {
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
