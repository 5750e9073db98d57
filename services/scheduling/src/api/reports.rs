//! Reports over JSON or CSV (`format=csv`, or `Accept: text/csv`): utilisation per clinic or
//! session, and free capacity per treatment function for the weeks ahead.
use super::bodies::{date, id};
use super::Caller;
use crate::app::reports as app;
use crate::app::{domain_error, refuse};
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_edge::tabular::{answer, only, wants_csv};

fn invalid(f: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(f, code, message)])
}

/// Utilisation from `from` to `to` (local dates; the last four weeks by default, at most a
/// year): capacity used, attended, DNA and not seen, cancellations by each side, new and
/// follow-up appointments, and their rates — per clinic (`by=clinic`, the default) or per
/// session (`by=session`), of one clinic if `clinic` is given.
#[utoipa::path(
    tag = "reports",
    params(
        ("from" = Option<String>, Query, description = "YYYY-MM-DD (27 days ago)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive (today)"),
        ("clinic" = Option<uuid::Uuid>, Query),
        ("by" = Option<String>, Query, description = "clinic (default) or session"),
        ("format" = Option<String>, Query, description = "json (default) or csv")
    ),
    responses((status = 200, description = "Utilisation rows", content(
        (Object = "application/json"),
        (String = "text/csv")
    )))
)]
#[get("/reports/utilisation")]
pub async fn utilisation(
    caller: Caller,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let parsed = (|| {
        only(&q, &["from", "to", "clinic", "by", "format"])?;
        let today = Utc::now().date_naive();
        let day = |k: &'static str, d| q.get(k).map_or(Ok(d), |v| date(k, v).map_err(domain_error));
        let (from, to) = (day("from", today - Duration::days(27))?, day("to", today)?);
        if to < from || to > from + Duration::days(366) {
            return Err(invalid(
                "to",
                "range",
                "on or after from, within a year of it",
            ));
        }
        let clinic = match q.get("clinic") {
            Some(v) => Some(id("clinic", v).map_err(domain_error)?),
            None => None,
        };
        let per_clinic = match q.get("by").map(String::as_str) {
            None | Some("clinic") => true,
            Some("session") => false,
            Some(_) => return Err(invalid("by", "code", "clinic or session")),
        };
        Ok(((from, to), clinic, per_clinic, wants_csv(&req, &q)?))
    })();
    let (window, clinic, per_clinic, csv) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let rows = app::utilisation(&auth, window, clinic, per_clinic).await?;
    answer(rows, csv, &format!("utilisation-{}-{}", window.0, window.1))
}

/// Free capacity per treatment function, week by week, for the next `weeks` (6; 1 to 52).
#[utoipa::path(
    tag = "reports",
    params(
        ("weeks" = Option<u32>, Query, description = "1 to 52 (6)"),
        ("format" = Option<String>, Query, description = "json (default) or csv")
    ),
    responses((status = 200, description = "Capacity rows", content(
        (Object = "application/json"),
        (String = "text/csv")
    )))
)]
#[get("/reports/capacity")]
pub async fn capacity(
    caller: Caller,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let parsed = (|| {
        only(&q, &["weeks", "format"])?;
        let weeks = match q.get("weeks") {
            None => 6,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=52).contains(w))
                .ok_or_else(|| invalid("weeks", "range", "1 to 52"))?,
        };
        Ok((weeks, wants_csv(&req, &q)?))
    })();
    let (weeks, csv) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let rows = app::capacity(&auth, weeks).await?;
    answer(rows, csv, "capacity")
}
