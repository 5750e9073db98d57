//! Spells over JSON: admit, transfer, change consultant, discharge, cancel, read, search.
//! The use cases are `app::spells`'.
use super::bodies::{
    id, parse_admission, parse_cancel, parse_consultant, parse_discharge, parse_transfer,
    AdmissionBody, CancelBody, ConsultantBody, DischargeBody, TransferBody,
};
use super::Caller;
use crate::app::spells as app;
use crate::app::{domain_error, refuse};
use crate::domain::SpellId;
use crate::store::{Change, Spell, SpellView};
use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct SpellList {
    spells: Vec<Spell>,
}

fn spell_id(s: &str) -> Result<SpellId, ApiError> {
    id("id", s).map(SpellId::from).map_err(domain_error)
}

/// Admits: opens a hospital provider spell and its first consultant episode, in the bed if
/// one is given — 201, or 409 `bed.occupied` / `bed.unavailable` / `spell.already-admitted`,
/// never both the admission and the conflict. With an `Idempotency-Key`, a retry gets the
/// first admission again (201, `Idempotent-Replayed: true`).
#[utoipa::path(
    tag = "spells",
    responses((status = 201, description = "The spell", body = SpellView, headers(("Location" = String, description = "The spell's URL"))))
)]
#[post("/admissions")]
pub async fn admit(
    caller: Caller,
    req: HttpRequest,
    body: web::Json<AdmissionBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let key = match tessera_edge::key_of(&req) {
        Ok(k) => k,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let mut a = match parse_admission(body.into_inner(), &auth.identity.user_id) {
        Ok(a) => a,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    a.key = key;
    let (s, replayed) = app::admit(&auth, a).await?;
    let mut r = HttpResponse::Created();
    r.insert_header((header::LOCATION, format!("/spells/{}", s.spell.id)));
    if replayed {
        r.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(r.json(s))
}

#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell, its episodes, stays and history", body = SpellView))
)]
#[get("/spells/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match spell_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::spell(&auth, id).await?))
}

fn invalid(f: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(f, code, message)])
}

/// Spells by patient and status, latest admission first.
#[utoipa::path(
    tag = "spells",
    params(
        ("patient" = Option<uuid::Uuid>, Query),
        ("status" = Option<String>, Query, description = "admitted, discharged, cancelled"),
        ("limit" = Option<u64>, Query, description = "1 to 500 (100)")
    ),
    responses((status = 200, description = "Spells", body = SpellList))
)]
#[get("/spells")]
pub async fn search(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = (|| {
        let (mut patient, mut status, mut limit) = (None, None, 100);
        for (k, v) in q.iter() {
            match k.as_str() {
                "patient" => {
                    patient = Some(
                        tessera_patients::PatientId::parse(v)
                            .ok_or_else(|| invalid("patient", "format", "a patient id (UUID)"))?
                            .to_string(),
                    )
                }
                "status" => match v.as_str() {
                    "admitted" | "discharged" | "cancelled" => status = Some(v.clone()),
                    _ => {
                        return Err(invalid(
                            "status",
                            "code",
                            "admitted, discharged or cancelled",
                        ))
                    }
                },
                "limit" => {
                    limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=500).contains(n))
                        .ok_or_else(|| invalid("limit", "range", "1 to 500"))?
                }
                other => {
                    return Err(invalid(
                        other,
                        "unknown",
                        "parameters: patient, status, limit",
                    ))
                }
            }
        }
        Ok((patient, status, limit))
    })();
    let (patient, status, limit) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let spells = app::spells(&auth, patient, status, limit).await?;
    Ok(HttpResponse::Ok().json(SpellList { spells }))
}

/// Moves the patient to another bed (or a ward without a bed yet): the old bed is freed in
/// the same transaction; the new one must be available and free from the time given.
#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell", body = SpellView))
)]
#[post("/spells/{id}/transfer")]
pub async fn transfer(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = spell_id(&path).and_then(|id| {
        parse_transfer(body.into_inner())
            .map(|t| (id, t))
            .map_err(ApiError::validation)
    });
    let (id, (to, at)) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let by = auth.identity.user_id.clone();
    Ok(HttpResponse::Ok().json(app::transfer(&auth, id, to, Change { at, by }).await?))
}

/// A new responsible consultant: the open episode ends (its activity record is made) and
/// the next begins at the same instant.
#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell", body = SpellView))
)]
#[post("/spells/{id}/consultant")]
pub async fn consultant(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ConsultantBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = spell_id(&path).and_then(|id| {
        parse_consultant(body.into_inner())
            .map(|c| (id, c))
            .map_err(ApiError::validation)
    });
    let (id, (who, tf, at)) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let by = auth.identity.user_id.clone();
    Ok(HttpResponse::Ok()
        .json(app::change_consultant(&auth, id, who, tf, Change { at, by }).await?))
}

/// Discharges: the last episode and the spell end (the episode's activity record is made)
/// and the bed is freed — to `cleaning` when the trust says so.
#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell, discharged", body = SpellView))
)]
#[post("/spells/{id}/discharge")]
pub async fn discharge(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<DischargeBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let clean = auth.state.config.beds.clean_after_discharge;
    let parsed = spell_id(&path).and_then(|id| {
        parse_discharge(body.into_inner(), clean)
            .map(|d| (id, d))
            .map_err(ApiError::validation)
    });
    let (id, (d, at)) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let by = auth.identity.user_id.clone();
    Ok(HttpResponse::Ok().json(app::discharge(&auth, id, d, Change { at, by }).await?))
}

/// Cancels the spell's last admission, transfer, consultant change or discharge: the
/// record is back as it was before it; the history keeps it, marked cancelled.
#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell, as it was before", body = SpellView))
)]
#[post("/spells/{id}/cancel")]
pub async fn cancel(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CancelBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = spell_id(&path).and_then(|id| {
        parse_cancel(body.into_inner())
            .map(|c| (id, c))
            .map_err(ApiError::validation)
    });
    let (id, (kind, reason)) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::cancel(&auth, id, kind, reason).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MergeReviews {
    reviews: Vec<tessera_patients::repoint::MergeReview>,
}

/// After the MPI merged two records of one person who both had an open spell: the merged
/// record's spell stays on it, and here a person decides which is wrong (cancel or
/// discharge it). Resolved by the unmerge, or by the person.
#[utoipa::path(
    tag = "spells",
    responses((status = 200, description = "Open merge reviews, oldest first", body = MergeReviews))
)]
#[get("/merge-reviews")]
pub async fn merge_reviews(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let reviews = app::merge_reviews(&auth, 200).await?;
    Ok(HttpResponse::Ok().json(MergeReviews { reviews }))
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveBody {
    /// `start` (the patient goes, HL7 A21) or `end` (they are back, A22).
    pub action: String,
    /// When, RFC 3339 (now).
    #[serde(default)]
    pub at: Option<String>,
}

/// Leave of absence: the patient goes home for a while (28 days or less does not break the
/// spell); the spell, its episode and its bed stay. 409 `spell.leave-state` for a leave
/// begun twice or ended when none began. Cancellable like any action (`cancels` is
/// `leave-start` or `leave-end`).
#[utoipa::path(
    tag = "spells",
    params(("id" = uuid::Uuid, Path, description = "The spell")),
    responses((status = 200, description = "The spell", body = SpellView))
)]
#[post("/spells/{id}/leave")]
pub async fn leave(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<LeaveBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let parsed = spell_id(&path).and_then(|id| {
        let going = match b.action.trim() {
            "start" => true,
            "end" => false,
            _ => return Err(invalid("action", "code", "start or end")),
        };
        let at = super::bodies::instant("at", b.at.as_deref()).map_err(crate::app::domain_error)?;
        Ok((id, going, at))
    });
    let (id, going, at) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let by = auth.identity.user_id.clone();
    Ok(HttpResponse::Ok().json(app::leave(&auth, id, going, Change { at, by }).await?))
}
