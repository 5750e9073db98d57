//! The waiting list (management information: patient ids, pathway ids and dates, no clinical
//! content): incomplete pathways at a census with weeks waited and breach dates, the
//! month-end 92% standard, the breach forecast, as JSON or CSV. Each answer leaves one audit
//! record counting the rows it answered.
use super::{audited, store_error};
use crate::api::Authorized;
use crate::store::{self, StoreError, WaitingFilter, WaitingRow};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, Flavour};
use tessera_rtt::{breach_date, breaches_within, days_waited, is_breach, week_band};

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
    let s = tessera_rtt::standard(starts, census);
    StandardOut {
        incomplete: s.incomplete,
        within_18_weeks: s.within_18_weeks,
        percent_within: (s.percent_within * 100.0).round() / 100.0,
        met: s.met,
    }
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
            let (v, n) = work(txn).await.map_err(|e| store_error(e, Flavour::Json))?;
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

/// `GET /waiting-list`: JSON pages with the whole list's standard, or the whole list as CSV
/// (a JSON string the handler answers as `text/csv`).
pub async fn list(
    auth: &Authorized,
    census: NaiveDate,
    filter: WaitingFilter,
    csv: bool,
    limit: usize,
    offset: usize,
) -> Result<serde_json::Value, ApiError> {
    answer(auth, move |txn| {
        Box::pin(async move {
            if csv {
                let entries = compute(store::incomplete(txn, census, &filter).await?, census);
                let n = entries.len() as i32;
                return Ok((serde_json::Value::String(to_csv(&entries)?), n));
            }
            // The standard over the whole list needs only its clock starts; the page is
            // read in order (earliest start = longest wait).
            let starts = store::incomplete_start_counts(txn, census, &filter).await?;
            let s = standard_of(
                starts.iter().flat_map(|c| {
                    std::iter::repeat_n(c.start_date, usize::try_from(c.pathways).unwrap_or(0))
                }),
                census,
            );
            let page = store::incomplete_page(txn, census, &filter, limit, offset).await?;
            let page: Vec<Entry> = page.into_iter().map(|r| Entry::new(r, census)).collect();
            let n = page.len() as i32;
            Ok((
                serde_json::json!({
                    "census": census,
                    "total": s.incomplete,
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
    .await
}

/// `GET /waiting-list/standard`: the 92% standard for the trust, by specialty and by
/// consultant.
pub async fn standard_report(
    auth: &Authorized,
    census: NaiveDate,
    filter: WaitingFilter,
) -> Result<serde_json::Value, ApiError> {
    answer(auth, move |txn| {
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
    .await
}

/// `GET /waiting-list/forecast`: who breaches 18 weeks within `weeks` of `census`, soonest
/// first (CSV as for [`list`]).
pub async fn forecast(
    auth: &Authorized,
    census: NaiveDate,
    weeks: i64,
    csv: bool,
    filter: WaitingFilter,
) -> Result<serde_json::Value, ApiError> {
    answer(auth, move |txn| {
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
    .await
}

/// What merges left for a person: two running clocks in one specialty.
pub async fn merge_reviews(auth: &Authorized) -> Result<Vec<store::MergeReview>, ApiError> {
    audited(auth, None, |txn| {
        Box::pin(async move {
            let v = store::merge_reviews(txn)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
            let n = v.len() as i32;
            Ok((v, Ending::permit(None, 200, n)))
        })
    })
    .await
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
