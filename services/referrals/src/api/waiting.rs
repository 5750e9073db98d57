//! The waiting list over HTTP: `/waiting-list` (JSON pages or CSV), its month-end 92%
//! standard, the breach forecast and the merge reviews. The waiting-list activity suffices;
//! the use cases are `app::waiting`'s.
use super::support::{Authorized, Caller};
use super::AppState;
use crate::app::waiting::{self as app, last_month_end};
use crate::app::{invalid, refuse};
use crate::domain::{code, date, specialty_code};
use crate::store::WaitingFilter;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};

const JSON: Flavour = Flavour::Json;

struct Query {
    census: NaiveDate,
    filter: WaitingFilter,
    csv: bool,
    limit: usize,
    offset: usize,
    weeks: i64,
}

fn parse(
    q: &HashMap<String, String>,
    req: &HttpRequest,
    state: &AppState,
    default_census: NaiveDate,
    allowed: &[&str],
) -> Result<Query, ApiError> {
    let today = Utc::now().date_naive();
    let d = |e: crate::domain::DomainError| crate::app::domain_error(e);
    let mut out = Query {
        census: default_census,
        filter: WaitingFilter::default(),
        csv: req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
        limit: state.config.waiting_list.default_page,
        offset: 0,
        weeks: 4,
    };
    for (k, v) in q {
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(
                k,
                "unknown",
                &format!("parameters: {}", allowed.join(", ")),
            ));
        }
        match k.as_str() {
            "census" => {
                out.census = date("census", v).map_err(d)?;
                if out.census > today + Duration::days(1) {
                    return Err(invalid("census", "future", "a census date that has come"));
                }
            }
            "specialty" => out.filter.specialty = Some(specialty_code("specialty", v).map_err(d)?),
            "treatment_function" => {
                out.filter.treatment_function =
                    Some(specialty_code("treatment_function", v).map_err(d)?)
            }
            "consultant" => out.filter.consultant = Some(code("consultant", v).map_err(d)?),
            "team" => out.filter.team = Some(code("team", v).map_err(d)?),
            "format" => match v.as_str() {
                "csv" => out.csv = true,
                "json" => out.csv = false,
                _ => return Err(invalid("format", "code", "json or csv")),
            },
            "limit" => {
                let max = state.config.waiting_list.max_page;
                out.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| invalid("limit", "range", &format!("1 to {max}")))?
            }
            "offset" => {
                let most = tessera_fhir::MAX_OFFSET;
                out.offset = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= most)
                    .ok_or_else(|| invalid("offset", "range", &format!("0 to {most}")))?
            }
            "weeks" => {
                out.weeks = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=52).contains(n))
                    .ok_or_else(|| invalid("weeks", "range", "1 to 52"))?
            }
            _ => {}
        }
    }
    Ok(out)
}

fn csv_response(body: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(body)
}

/// Authorises a waiting-list request and parses its parameters; a bad one is refused (and
/// audited) here.
async fn begin(
    caller: Caller,
    state: &AppState,
    req: &HttpRequest,
    q: &HashMap<String, String>,
    default_census: NaiveDate,
    allowed: &[&str],
) -> Result<(Authorized, Query), ApiError> {
    let auth = caller.permit(JSON).await?;
    match parse(q, req, state, default_census, allowed) {
        Ok(p) => Ok((auth, p)),
        Err(e) => refuse(&auth, None, e).await,
    }
}

/// `GET /waiting-list`: the incomplete pathways at `census` (default today), longest wait
/// first. JSON pages (`limit`, `offset`) with the list's standard; CSV is the whole list.
#[utoipa::path(
    tag = "waiting-list",
    params(
        ("census" = Option<String>, Query, description = "YYYY-MM-DD (today)"),
        ("specialty" = Option<String>, Query),
        ("treatment_function" = Option<String>, Query),
        ("consultant" = Option<String>, Query),
        ("team" = Option<String>, Query),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv` (the whole list)"),
        ("limit" = Option<u64>, Query),
        ("offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "Incomplete pathways at the census, longest wait first, with the 18-week standard", content(
        (Object = "application/json"),
        (String = "text/csv")
    )))
)]
#[get("/waiting-list")]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let allowed = [
        "census",
        "specialty",
        "treatment_function",
        "consultant",
        "team",
        "format",
        "limit",
        "offset",
    ];
    let (auth, p) = begin(caller, &state, &req, &q, Utc::now().date_naive(), &allowed).await?;
    let census = p.census;
    let v = app::list(&auth, p.census, p.filter, p.csv, p.limit, p.offset).await?;
    Ok(match v {
        serde_json::Value::String(body) => csv_response(body, &format!("waiting-list-{census}")),
        v => HttpResponse::Ok().json(v),
    })
}

/// `GET /waiting-list/standard`: the 92% standard at the month-end census (default: the
/// latest month end), for the trust, by specialty and by consultant.
#[utoipa::path(
    tag = "waiting-list",
    params(
        ("census" = Option<String>, Query, description = "YYYY-MM-DD (the latest month end)"),
        ("specialty" = Option<String>, Query),
        ("treatment_function" = Option<String>, Query),
        ("consultant" = Option<String>, Query),
        ("team" = Option<String>, Query)
    ),
    responses((status = 200, description = "The 92% standard for the trust, by specialty and by consultant", body = Object))
)]
#[get("/waiting-list/standard")]
pub async fn standard_report(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let allowed = [
        "census",
        "specialty",
        "treatment_function",
        "consultant",
        "team",
    ];
    let (auth, p) = begin(
        caller,
        &state,
        &req,
        &q,
        last_month_end(Utc::now().date_naive()),
        &allowed,
    )
    .await?;
    let v = app::standard_report(&auth, p.census, p.filter).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /waiting-list/forecast`: who breaches 18 weeks in the next `weeks` weeks (default 4)
/// after `census` (default today) if not treated, soonest first.
#[utoipa::path(
    tag = "waiting-list",
    params(
        ("census" = Option<String>, Query, description = "YYYY-MM-DD (today)"),
        ("weeks" = Option<u32>, Query, description = "How far ahead"),
        ("specialty" = Option<String>, Query),
        ("treatment_function" = Option<String>, Query),
        ("consultant" = Option<String>, Query),
        ("team" = Option<String>, Query),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`")
    ),
    responses((status = 200, description = "Who breaches 18 weeks in the coming weeks if not treated", content(
        (Object = "application/json"),
        (String = "text/csv")
    )))
)]
#[get("/waiting-list/forecast")]
pub async fn forecast(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let allowed = [
        "census",
        "weeks",
        "specialty",
        "treatment_function",
        "consultant",
        "team",
        "format",
    ];
    let (auth, p) = begin(caller, &state, &req, &q, Utc::now().date_naive(), &allowed).await?;
    let census = p.census;
    let v = app::forecast(&auth, p.census, p.weeks, p.csv, p.filter).await?;
    Ok(match v {
        serde_json::Value::String(body) => csv_response(body, &format!("breach-forecast-{census}")),
        v => HttpResponse::Ok().json(v),
    })
}

/// `GET /merge-reviews`: what merges left for a person (two running clocks in one specialty).
#[utoipa::path(
    tag = "waiting-list",
    responses((status = 200, description = "Merges that left a person with two running clocks in one specialty", body = Object))
)]
#[get("/merge-reviews")]
pub async fn merge_reviews(caller: Caller) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let v = app::merge_reviews(&auth).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reviews": v })))
}
