//! The waiting list: incomplete RTT pathways per trust, specialty, treatment function,
//! consultant or team at a census date, with weeks waited and breach dates; the month-end 92%
//! standard; the breach forecast; JSON or CSV. Management information: patient ids, pathway
//! ids and dates, no clinical content — the waiting-list activity suffices, and each request
//! leaves one audit record counting the rows it answered.
use super::support::{audited, invalid, refuse, store_error, Authorized, Caller};
use super::AppState;
use crate::domain::{code, date, specialty_code};
use crate::store::{self, StoreError, WaitingFilter, WaitingRow};
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, Flavour};
use tessera_rtt::{breach_date, breaches_within, days_waited, is_breach, standard, week_band};

const JSON: Flavour = Flavour::Json;

/// One incomplete pathway on the list.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub pathway_id: uuid::Uuid,
    pub patient_id: String,
    pub ppid: String,
    pub ppid_issuer: String,
    pub specialty: String,
    pub treatment_function: String,
    pub consultant: Option<String>,
    pub team: Option<String>,
    pub clock_start: NaiveDate,
    pub days_waited: i64,
    /// `k`: more than k, up to k+1 weeks (the national bands).
    pub week_band: i64,
    pub breach_date: NaiveDate,
    pub breached: bool,
}

impl Entry {
    pub fn new(r: WaitingRow, census: NaiveDate) -> Self {
        let days = days_waited(r.start_date, census);
        Self {
            pathway_id: r.pathway_id,
            patient_id: r.patient_id,
            ppid: r.ppid,
            ppid_issuer: r.issuer,
            specialty: r.specialty,
            treatment_function: r.treatment_function,
            consultant: r.consultant,
            team: r.team,
            clock_start: r.start_date,
            days_waited: days,
            week_band: week_band(days),
            breach_date: breach_date(r.start_date),
            breached: is_breach(days),
        }
    }
}

/// The list at `census`, longest wait first.
pub fn compute(rows: Vec<WaitingRow>, census: NaiveDate) -> Vec<Entry> {
    let mut v: Vec<Entry> = rows.into_iter().map(|r| Entry::new(r, census)).collect();
    v.sort_unstable_by(|a, b| {
        b.days_waited
            .cmp(&a.days_waited)
            .then_with(|| a.ppid.cmp(&b.ppid))
    });
    v
}

#[derive(Debug, Clone, Serialize)]
pub struct StandardOut {
    pub incomplete: usize,
    pub within_18_weeks: usize,
    pub percent_within: f64,
    /// ≥ 92% within 18 weeks.
    pub met: bool,
}

fn standard_of(starts: impl Iterator<Item = NaiveDate>, census: NaiveDate) -> StandardOut {
    let s = standard(starts, census);
    StandardOut {
        incomplete: s.incomplete,
        within_18_weeks: s.within_18_weeks,
        percent_within: (s.percent_within * 100.0).round() / 100.0,
        met: s.met,
    }
}

struct Query {
    census: NaiveDate,
    filter: WaitingFilter,
    csv: bool,
    limit: usize,
    offset: usize,
    weeks: i64,
}

/// The most recent month end on or before `today`: the RTT census date.
pub fn last_month_end(today: NaiveDate) -> NaiveDate {
    let me = tessera_rtt::month_end(today);
    if me == today {
        today
    } else {
        today
            .with_day(1)
            .map_or(today, |first| first - Duration::days(1))
    }
}

fn parse(
    q: &HashMap<String, String>,
    req: &HttpRequest,
    state: &AppState,
    default_census: NaiveDate,
    allowed: &[&str],
) -> Result<Query, ApiError> {
    let today = Utc::now().date_naive();
    let d = |e: crate::domain::DomainError| super::support::domain_error(e);
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

/// Runs `work` on the tenant's transaction, audited with the count of rows it answered.
async fn answer<F>(auth: &Authorized, work: F) -> Result<serde_json::Value, ApiError>
where
    F: for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
        ) -> futures::future::BoxFuture<
            't,
            Result<(serde_json::Value, i32), StoreError>,
        > + Send
        + 'static,
{
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let (v, n) = work(txn).await.map_err(|e| store_error(e, JSON))?;
            Ok((v, Ending::permit(None, 200, n)))
        })
    })
    .await
}

/// The list as CSV (RFC 4180, by the `csv` crate): one row per pathway, the columns of
/// [`Entry`] in order, a header row first.
pub fn to_csv(entries: &[Entry]) -> Result<String, StoreError> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(entries.len() * 160 + 200));
    for e in entries {
        w.serialize(e)
            .map_err(|e| StoreError::Export(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| StoreError::Export(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| StoreError::Export(e.to_string()))
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
    let (census, csv, limit, offset, filter) = (p.census, p.csv, p.limit, p.offset, p.filter);
    let v = answer(&auth, move |txn| {
        Box::pin(async move {
            if csv {
                let entries = compute(store::incomplete(txn, census, &filter).await?, census);
                let n = entries.len() as i32;
                return Ok((serde_json::Value::String(to_csv(&entries)?), n));
            }
            // The standard over the whole list needs only its clock starts; the page is
            // read in order (earliest start = longest wait).
            let starts = store::incomplete_starts(txn, census, &filter).await?;
            let s = standard_of(starts.iter().map(|r| r.start_date), census);
            let page = store::incomplete_page(txn, census, &filter, limit, offset).await?;
            let page: Vec<Entry> = page.into_iter().map(|r| Entry::new(r, census)).collect();
            let n = page.len() as i32;
            Ok((
                serde_json::json!({
                    "census": census,
                    "total": starts.len(),
                    "breached": s.incomplete - s.within_18_weeks,
                    "standard": s,
                    "offset": offset,
                    "limit": limit,
                    "entries": page,
                }),
                n,
            ))
        })
    })
    .await?;
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
    let (census, filter) = (p.census, p.filter);
    let v = answer(&auth, move |txn| {
        Box::pin(async move {
            let starts = store::incomplete_starts(txn, census, &filter).await?;
            let group = |key: &dyn Fn(&store::StartRow) -> String| {
                let mut m: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
                for r in &starts {
                    m.entry(key(r)).or_default().push(r.start_date);
                }
                m.into_iter()
                    .map(|(k, ds)| (k, standard_of(ds.into_iter(), census)))
                    .collect::<BTreeMap<_, _>>()
            };
            let by_specialty = group(&|r| r.specialty.clone());
            let by_consultant = group(&|r| r.consultant.clone().unwrap_or_else(|| "-".into()));
            Ok((
                serde_json::json!({
                    "census": census,
                    "month_end": tessera_rtt::month_end(census) == census,
                    "target_percent": tessera_rtt::STANDARD_PERCENT,
                    "trust": standard_of(starts.iter().map(|r| r.start_date), census),
                    "by_specialty": by_specialty,
                    "by_consultant": by_consultant,
                }),
                starts.len() as i32,
            ))
        })
    })
    .await?;
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
    let (census, weeks, csv, filter) = (p.census, p.weeks, p.csv, p.filter);
    let v = answer(&auth, move |txn| {
        Box::pin(async move {
            // Which clock starts breach in the window (libs/rtt decides), then those rows.
            let mut dates: Vec<NaiveDate> = store::incomplete_starts(txn, census, &filter)
                .await?
                .into_iter()
                .map(|r| r.start_date)
                .filter(|d| breaches_within(*d, census, weeks).is_some())
                .collect();
            dates.sort_unstable();
            dates.dedup();
            let rows = store::incomplete_started_on(txn, census, &filter, dates).await?;
            let mut due = compute(rows, census);
            due.sort_by(|a, b| {
                a.breach_date
                    .cmp(&b.breach_date)
                    .then_with(|| a.ppid.cmp(&b.ppid))
            });
            let n = due.len() as i32;
            if csv {
                return Ok((serde_json::Value::String(to_csv(&due)?), n));
            }
            Ok((
                serde_json::json!({
                    "census": census,
                    "weeks": weeks,
                    "until": census + Duration::days(7 * weeks),
                    "total": due.len(),
                    "entries": due,
                }),
                n,
            ))
        })
    })
    .await?;
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
    let v = audited(&auth, None, |txn| {
        Box::pin(async move {
            let v = store::merge_reviews(txn)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let n = v.len() as i32;
            Ok((v, Ending::permit(None, 200, n)))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reviews": v })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_with_commas_quotes_and_line_breaks_read_back_as_written() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap_or_default();
        let e = Entry {
            pathway_id: uuid::Uuid::nil(),
            patient_id: "p1".into(),
            ppid: "RTX\"123\"".into(),
            ppid_issuer: "RTX".into(),
            specialty: "100".into(),
            treatment_function: "100".into(),
            consultant: Some("Smith, J \"Jo\"\nConsultant".into()),
            team: None,
            clock_start: d,
            days_waited: 10,
            week_band: 1,
            breach_date: d,
            breached: false,
        };
        let text = to_csv(std::slice::from_ref(&e)).unwrap_or_default();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers().cloned().unwrap_or_default();
        assert_eq!(headers.get(6), Some("consultant"));
        let row = r.records().next().and_then(Result::ok).unwrap_or_default();
        assert_eq!(row.get(2), Some("RTX\"123\""));
        assert_eq!(row.get(6), Some("Smith, J \"Jo\"\nConsultant"));
        assert_eq!(row.get(7), Some(""));
    }
}
