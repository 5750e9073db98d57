//! The referral worklists over JSON: ready to book (accepted, no booked appointment) and
//! appointment-slot issues (ready, with no free slot before the priority's target date).
use super::Caller;
use crate::app::refuse;
use crate::app::worklists::{self as app, Worklist};
use crate::store::{MergeReview, ReadyFilter, ReadyItem};
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
            "limit" => match v.parse::<u64>().ok().filter(|n| (1..=1000).contains(n)) {
                Some(n) => f.limit = n,
                None => errors.push(FieldError::new(k, "range", "limit: 1 to 1000")),
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
    let f = match filter(&q) {
        Ok(f) if f.treatment_function.is_none() && f.priority.is_none() => f,
        Ok(_) => {
            let e = ApiError::validation(vec![FieldError::new(
                "limit",
                "unknown",
                "this list takes limit only",
            )]);
            return refuse(&auth, None, e).await;
        }
        Err(e) => return refuse(&auth, None, e).await,
    };
    let items = app::merge_reviews(&auth, f.limit).await?;
    Ok(HttpResponse::Ok().json(MergeReviewList { items }))
}
