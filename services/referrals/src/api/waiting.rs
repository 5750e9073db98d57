//! The waiting list: incomplete RTT pathways per trust, specialty, treatment function,
//! consultant or team at a census date, with weeks waited and breach dates; the month-end 92%
//! standard; the breach forecast; JSON or CSV. Management information: patient ids, pathway
//! ids and dates, no clinical content — the waiting-list activity suffices, and each request
//! leaves one audit record counting the rows it answered.
use super::support::{audited, invalid, refuse, store_error, Authorized, Caller};
use super::AppState;
use crate::domain::{code, date, specialty_code};
use crate::store::{self, WaitingFilter, WaitingRow};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
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

fn standard_of<'a>(entries: impl Iterator<Item = &'a Entry>, census: NaiveDate) -> StandardOut {
    let s = standard(entries.map(|e| e.clock_start), census);
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
                out.offset = v
                    .parse()
                    .map_err(|_| invalid("offset", "range", "0 or more"))?
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

async fn load(
    auth: &Authorized,
    census: NaiveDate,
    filter: WaitingFilter,
    shape: impl FnOnce(Vec<Entry>) -> (serde_json::Value, i32) + Send + 'static,
) -> Result<serde_json::Value, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let rows = store::incomplete(txn, census, &filter)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let (v, n) = shape(compute(rows, census));
            Ok((v, Ending::permit(None, 200, n)))
        })
    })
    .await
}

const CSV_HEADER: &str = "pathway_id,patient_id,ppid,ppid_issuer,specialty,treatment_function,consultant,team,clock_start,days_waited,week_band,breach_date,breached\n";

fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(CSV_HEADER.len() + entries.len() * 160);
    out.push_str(CSV_HEADER);
    for e in entries {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            e.pathway_id,
            cell(&e.patient_id),
            cell(&e.ppid),
            cell(&e.ppid_issuer),
            e.specialty,
            e.treatment_function,
            cell(e.consultant.as_deref().unwrap_or("")),
            cell(e.team.as_deref().unwrap_or("")),
            e.clock_start,
            e.days_waited,
            e.week_band,
            e.breach_date,
            e.breached
        ));
    }
    out
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

/// `GET /waiting-list`: the incomplete pathways at `census` (default today), longest wait
/// first. JSON pages (`limit`, `offset`) with the list's standard; CSV is the whole list.
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "waiting-list.read",
            &state.config.roles.waiting_list_activity,
            JSON,
        )
        .await?;
    let today = Utc::now().date_naive();
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
    let p = match parse(&q, &req, &state, today, &allowed) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (census, csv, limit, offset) = (p.census, p.csv, p.limit, p.offset);
    let v = load(&auth, census, p.filter, move |entries| {
        if csv {
            let n = entries.len() as i32;
            return (serde_json::Value::String(to_csv(&entries)), n);
        }
        let s = standard_of(entries.iter(), census);
        let page: Vec<&Entry> = entries.iter().skip(offset).take(limit).collect();
        let n = page.len() as i32;
        (
            serde_json::json!({
                "census": census,
                "total": entries.len(),
                "breached": entries.iter().filter(|e| e.breached).count(),
                "standard": s,
                "offset": offset,
                "limit": limit,
                "entries": page,
            }),
            n,
        )
    })
    .await?;
    Ok(match v {
        serde_json::Value::String(body) => csv_response(body, &format!("waiting-list-{census}")),
        v => HttpResponse::Ok().json(v),
    })
}

/// `GET /waiting-list/standard`: the 92% standard at the month-end census (default: the
/// latest month end), for the trust, by specialty and by consultant.
pub async fn standard_report(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "waiting-list.standard",
            &state.config.roles.waiting_list_activity,
            JSON,
        )
        .await?;
    let today = Utc::now().date_naive();
    let allowed = [
        "census",
        "specialty",
        "treatment_function",
        "consultant",
        "team",
    ];
    let p = match parse(&q, &req, &state, last_month_end(today), &allowed) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let census = p.census;
    let v = load(&auth, census, p.filter, move |entries| {
        let group = |key: &dyn Fn(&Entry) -> String| {
            let mut m: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
            for e in &entries {
                m.entry(key(e)).or_default().push(e);
            }
            m.into_iter()
                .map(|(k, es)| (k, standard_of(es.into_iter(), census)))
                .collect::<BTreeMap<_, _>>()
        };
        let by_specialty = group(&|e| e.specialty.clone());
        let by_consultant = group(&|e| e.consultant.clone().unwrap_or_else(|| "-".into()));
        (
            serde_json::json!({
                "census": census,
                "month_end": tessera_rtt::month_end(census) == census,
                "target_percent": tessera_rtt::STANDARD_PERCENT,
                "trust": standard_of(entries.iter(), census),
                "by_specialty": by_specialty,
                "by_consultant": by_consultant,
            }),
            entries.len() as i32,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /waiting-list/forecast`: who breaches 18 weeks in the next `weeks` weeks (default 4)
/// after `census` (default today) if not treated, soonest first.
pub async fn forecast(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "waiting-list.forecast",
            &state.config.roles.waiting_list_activity,
            JSON,
        )
        .await?;
    let today = Utc::now().date_naive();
    let allowed = [
        "census",
        "weeks",
        "specialty",
        "treatment_function",
        "consultant",
        "team",
        "format",
    ];
    let p = match parse(&q, &req, &state, today, &allowed) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (census, weeks, csv) = (p.census, p.weeks, p.csv);
    let v = load(&auth, census, p.filter, move |entries| {
        let mut due: Vec<Entry> = entries
            .into_iter()
            .filter(|e| breaches_within(e.clock_start, census, weeks).is_some())
            .collect();
        due.sort_by(|a, b| {
            a.breach_date
                .cmp(&b.breach_date)
                .then_with(|| a.ppid.cmp(&b.ppid))
        });
        let n = due.len() as i32;
        if csv {
            return (serde_json::Value::String(to_csv(&due)), n);
        }
        (
            serde_json::json!({
                "census": census,
                "weeks": weeks,
                "until": census + Duration::days(7 * weeks),
                "total": due.len(),
                "entries": due,
            }),
            n,
        )
    })
    .await?;
    Ok(match v {
        serde_json::Value::String(body) => csv_response(body, &format!("breach-forecast-{census}")),
        v => HttpResponse::Ok().json(v),
    })
}

/// `GET /merge-reviews`: what merges left for a person (two running clocks in one specialty).
pub async fn merge_reviews(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller
        .authorize(
            "merge-review.list",
            &state.config.roles.waiting_list_activity,
            JSON,
        )
        .await?;
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
