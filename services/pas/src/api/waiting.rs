//! The admitted waiting list over JSON: decisions to admit, offers of a to-come-in date,
//! suspensions, removals, the list and its census. The use cases are `app::waiting`'.
use super::bodies::{id, optional, ppid, Errors};
use super::Caller;
use crate::app::waiting as app;
use crate::app::{domain_error, refuse};
use crate::domain::{text, three_digits, DomainError, IntendedManagement};
use crate::store::waiting::{CensusRow, Entry, NewEntry};
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_edge::tabular::only;
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

fn date(f: &'static str, s: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(f, "date", "a date, YYYY-MM-DD"))
}

fn entry_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    id("id", s).map_err(domain_error)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    pub patient_id: String,
    #[serde(default)]
    pub referral_id: Option<String>,
    /// The RTT pathway (both or neither): its clock records the decision to treat.
    #[serde(default)]
    pub ppid: Option<String>,
    #[serde(default)]
    pub ppid_issuer: Option<String>,
    /// YYYY-MM-DD (today); not in the future.
    #[serde(default)]
    pub decided_on: Option<String>,
    /// INTENDED MANAGEMENT (1 ordinary, 2 day case, ...; 1).
    #[serde(default)]
    pub intended_management: Option<String>,
    /// `routine`, `urgent`, `two-week-wait`.
    pub priority: String,
    pub treatment_function: String,
    /// The consultant who decided (their user id).
    pub consultant: String,
    /// The intended procedure, as the clinician wrote it.
    #[serde(default)]
    pub procedure: Option<String>,
}

fn parse_entry(b: EntryBody, by: &str) -> Result<NewEntry, Vec<FieldError>> {
    let mut e = Errors::default();
    let patient = tessera_patients::PatientId::parse(&b.patient_id);
    if patient.is_none() {
        e.add("patient_id", "format", "a patient id (UUID)");
    }
    let referral = optional(&mut e, b.referral_id.as_deref(), |s| id("referral_id", s));
    let pathway = ppid(&mut e, b.ppid.as_deref(), b.ppid_issuer.as_deref());
    let today = Utc::now().date_naive();
    let decided = e.take(match b.decided_on.as_deref() {
        None => Ok(today),
        Some(s) => date("decided_on", s).and_then(|d| {
            if d > today {
                Err(DomainError::invalid(
                    "decided_on",
                    "future",
                    "today or earlier",
                ))
            } else {
                Ok(d)
            }
        }),
    });
    let management = e.take(
        IntendedManagement::parse(b.intended_management.as_deref().unwrap_or("1"))
            .map(|m| m.as_str().to_string()),
    );
    let priority = match b.priority.trim() {
        p @ ("routine" | "urgent" | "two-week-wait") => Some(p.to_string()),
        _ => {
            e.add("priority", "code", "routine, urgent or two-week-wait");
            None
        }
    };
    let tf = e.take(three_digits("treatment_function", &b.treatment_function));
    let consultant = e.take(text("consultant", &b.consultant, 100));
    let note = optional(&mut e, b.procedure.as_deref(), |s| {
        text("procedure", s, 500)
    });
    let v = (|| {
        Some(NewEntry {
            patient: patient?,
            referral: referral?,
            ppid: pathway?,
            decided_on: decided?,
            management: management?,
            priority: priority?,
            treatment_function: tf?,
            consultant: consultant?,
            note: note?,
            by: by.to_string(),
        })
    })();
    e.done(v)
}

/// A decision to admit: the patient joins the admitted waiting list (on an RTT pathway, the
/// referrals service records the decision to treat; the clock runs on).
#[utoipa::path(tag = "waiting list", responses((status = 201, description = "The entry", body = Entry)))]
#[post("/waiting-list")]
pub async fn add(caller: Caller, body: web::Json<EntryBody>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let e = match parse_entry(body.into_inner(), &auth.identity.user_id) {
        Ok(e) => e,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    Ok(HttpResponse::Created().json(app::add(&auth, e).await?))
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    entries: Vec<Entry>,
}

/// The open entries: two-week wait, then urgent, then routine, each longest waiting first.
#[utoipa::path(
    tag = "waiting list",
    params(
        ("treatment_function" = Option<String>, Query),
        ("limit" = Option<u64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "Open entries", body = EntryList))
)]
#[get("/waiting-list")]
pub async fn list(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = (|| {
        only(&q, &["treatment_function", "limit"])?;
        let tf = match q.get("treatment_function") {
            Some(v) => Some(three_digits("treatment_function", v).map_err(domain_error)?),
            None => None,
        };
        let limit = match q.get("limit") {
            None => 100,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new("limit", "range", "1 to 1000")])
                })?,
        };
        Ok((tf, limit))
    })();
    let (tf, limit) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let entries = app::list(&auth, tf, limit).await?;
    Ok(HttpResponse::Ok().json(EntryList { entries }))
}

#[derive(Serialize, ToSchema)]
pub struct Census {
    on: NaiveDate,
    rows: Vec<CensusRow>,
}

/// What was on the list on `on` (today), per treatment function and priority — entries closed
/// since count on the days they were open.
#[utoipa::path(
    tag = "waiting list",
    params(("on" = Option<String>, Query, description = "YYYY-MM-DD (today)")),
    responses((status = 200, description = "The census", body = Census))
)]
#[get("/waiting-list/census")]
pub async fn census(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = (|| {
        only(&q, &["on"])?;
        match q.get("on") {
            Some(v) => date("on", v).map_err(domain_error),
            None => Ok(Utc::now().date_naive()),
        }
    })();
    let on = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let rows = app::census(&auth, on).await?;
    Ok(HttpResponse::Ok().json(Census { on, rows }))
}

#[utoipa::path(
    tag = "waiting list",
    params(("id" = uuid::Uuid, Path, description = "The entry")),
    responses((status = 200, description = "The entry", body = Entry))
)]
#[get("/waiting-list/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match entry_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::read(&auth, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    /// The to-come-in date offered, YYYY-MM-DD (today or later).
    pub tci_date: String,
    /// Whether the patient accepted it (a declined offer is kept too).
    pub accepted: bool,
}

/// Records an offer of a to-come-in date; accepted, it becomes the entry's date.
#[utoipa::path(
    tag = "waiting list",
    params(("id" = uuid::Uuid, Path, description = "The entry")),
    responses((status = 200, description = "The entry", body = Entry))
)]
#[post("/waiting-list/{id}/offers")]
pub async fn offer(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<OfferBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = entry_id(&path).and_then(|id| {
        let d = date("tci_date", &body.tci_date).map_err(domain_error)?;
        if d < Utc::now().date_naive() {
            return Err(ApiError::validation(vec![FieldError::new(
                "tci_date",
                "past",
                "today or later",
            )]));
        }
        Ok((id, d))
    });
    let (id, tci) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::offer(&auth, id, tci, body.accepted).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionBody {
    /// Suspended until this date (YYYY-MM-DD, after today); `null` lifts the suspension.
    pub until: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Suspends the entry (the patient is unavailable) until a date, or lifts the suspension.
#[utoipa::path(
    tag = "waiting list",
    params(("id" = uuid::Uuid, Path, description = "The entry")),
    responses((status = 200, description = "The entry", body = Entry))
)]
#[put("/waiting-list/{id}/suspension")]
pub async fn suspend(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<SuspensionBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let b = body.into_inner();
    let parsed = entry_id(&path).and_then(|id| {
        let mut e = Errors::default();
        let until = optional(&mut e, b.until.as_deref(), |s| {
            date("until", s).and_then(|d| {
                if d > Utc::now().date_naive() {
                    Ok(d)
                } else {
                    Err(DomainError::invalid("until", "past", "after today"))
                }
            })
        });
        let reason = optional(&mut e, b.reason.as_deref(), |s| text("reason", s, 500));
        if until.as_ref().is_some_and(Option::is_some)
            && reason.as_ref().is_some_and(Option::is_none)
        {
            e.add("reason", "required", "a suspension says why");
        }
        let v = until.zip(reason);
        e.done(v)
            .map(|(u, r)| (id, u, r))
            .map_err(ApiError::validation)
    });
    let (id, until, reason) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::suspend(&auth, id, until, reason).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalBody {
    /// Why: `no-longer-required`, `treated-elsewhere`, `died`, `patient-declined`,
    /// `validation` (found not to be waiting), `other`.
    pub reason: String,
}

const REMOVAL_REASONS: &[&str] = &[
    "no-longer-required",
    "treated-elsewhere",
    "died",
    "patient-declined",
    "validation",
    "other",
];

/// Removes the entry with a reason (an admission closes it by itself).
#[utoipa::path(
    tag = "waiting list",
    params(("id" = uuid::Uuid, Path, description = "The entry")),
    responses((status = 200, description = "The entry, removed", body = Entry))
)]
#[post("/waiting-list/{id}/remove")]
pub async fn remove(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<RemovalBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let reason = body.reason.trim().to_string();
    let parsed = entry_id(&path).and_then(|id| {
        if REMOVAL_REASONS.contains(&reason.as_str()) {
            Ok(id)
        } else {
            Err(ApiError::validation(vec![FieldError::new(
                "reason",
                "code",
                REMOVAL_REASONS.join(", "),
            )]))
        }
    });
    let id = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::remove(&auth, id, reason).await?))
}
