//! The worklists over JSON: ready to book (accepted, no booked appointment), appointment-slot
//! issues (ready, with no free slot before the priority's target date), merge reviews, and
//! the patients to rebook.
use super::Caller;
use crate::app::booking::rebook_worklist as rebook_list;
use crate::app::refuse;
use crate::app::worklists::{self as app, Worklist};
use crate::store::{MergeReview, ReadyFilter, ReadyItem, RebookItem};
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ReferralList {
    items: Vec<ReadyItem>,
}

#[derive(Serialize, ToSchema)]
pub struct MergeReviewList {
    items: Vec<MergeReview>,
}

#[derive(Serialize, ToSchema)]
pub struct RebookList {
    items: Vec<RebookItem>,
}

/// A list's `limit`: 1 to 1000.
fn limit(k: &str, v: &str) -> Result<u64, FieldError> {
    v.parse()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| FieldError::new(k, "range", "limit: 1 to 1000"))
}

/// The `limit` (100 unless given) of a list that takes nothing else.
fn limit_only(q: &HashMap<String, String>) -> Result<u64, ApiError> {
    let mut n = 100;
    for (k, v) in q {
        n = match k.as_str() {
            "limit" => limit(k, v),
            _ => Err(FieldError::new(k, "unknown", "this list takes limit only")),
        }
        .map_err(|e| ApiError::validation(vec![e]))?;
    }
    Ok(n)
}

fn filter(q: &HashMap<String, String>) -> Result<ReadyFilter, ApiError> {
    let mut f = ReadyFilter {
        limit: 100,
        ..ReadyFilter::default()
    };
    let mut errors = Vec::new();
    for (k, v) in q {
        match k.as_str() {
            "treatment_function" if v.len() == 3 && v.bytes().all(|b| b.is_ascii_digit()) => {
                f.treatment_function = Some(v.clone())
            }
            "priority" if ["two-week-wait", "urgent", "routine"].contains(&v.as_str()) => {
                f.priority = Some(v.clone())
            }
            "limit" => match limit(k, v) {
                Ok(n) => f.limit = n,
                Err(e) => errors.push(e),
            },
            "treatment_function" => errors.push(FieldError::new(
                k,
                "format",
                "a treatment function code: 3 digits",
            )),
            "priority" => errors.push(FieldError::new(
                k,
                "enum",
                "one of two-week-wait, urgent, routine",
            )),
            _ => errors.push(FieldError::new(
                k,
                "unknown",
                "not a parameter of this list",
            )),
        }
    }
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn answer(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
    list: Worklist,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let f = match filter(&q) {
        Ok(f) => f,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let items = app::referrals(&auth, list, f).await?;
    Ok(HttpResponse::Ok().json(ReferralList { items }))
}

/// Referrals accepted and not yet booked: two-week wait first, then urgent, then routine,
/// each longest waiting first (from the referrals service's events, within seconds).
#[utoipa::path(
    tag = "worklists",
    params(
        ("treatment_function" = Option<String>, Query, description = "3 digits"),
        ("priority" = Option<String>, Query, description = "two-week-wait, urgent or routine"),
        ("limit" = Option<u64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "The worklist", body = ReferralList))
)]
#[get("/worklists/ready-to-book")]
pub async fn ready_to_book(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    answer(caller, q, Worklist::ReadyToBook).await
}

/// Appointment-slot issues: referrals ready to book with no free slot in a clinic of their
/// treatment function before their priority's target date (2WW 14 days from receipt, urgent
/// 28, routine 126).
#[utoipa::path(
    tag = "worklists",
    params(
        ("treatment_function" = Option<String>, Query, description = "3 digits"),
        ("priority" = Option<String>, Query, description = "two-week-wait, urgent or routine"),
        ("limit" = Option<u64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "The worklist", body = ReferralList))
)]
#[get("/worklists/slot-issues")]
pub async fn slot_issues(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    answer(caller, q, Worklist::SlotIssues).await
}

/// What the MPI's merges left for a person: the survivor booked into two appointments at
/// overlapping times (docs/contracts/merge.md). Resolved by the merge's undoing, or by staff
/// cancelling one.
#[utoipa::path(
    tag = "worklists",
    params(("limit" = Option<u64>, Query, description = "1 to 1000 (100)")),
    responses((status = 200, description = "Open merge reviews, oldest first", body = MergeReviewList))
)]
#[get("/worklists/merge-reviews")]
pub async fn merge_reviews(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let n = match limit_only(&q) {
        Ok(n) => n,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let items = app::merge_reviews(&auth, n).await?;
    Ok(HttpResponse::Ok().json(MergeReviewList { items }))
}

/// Patients to offer another appointment (after a provider cancellation, a cancelled
/// session, a DNA or not being seen), longest waiting first.
#[utoipa::path(
    tag = "booking",
    params(("limit" = Option<u64>, Query, description = "1 to 1000 (100)")),
    responses((status = 200, description = "The worklist", body = RebookList))
)]
#[get("/worklists/rebook")]
pub async fn rebook_worklist(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let n = match limit_only(&q) {
        Ok(n) => n,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let items = rebook_list(&auth, n).await?;
    Ok(HttpResponse::Ok().json(RebookList { items }))
}
