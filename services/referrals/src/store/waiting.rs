//! The waiting list: incomplete pathways at a census date — periods started on or before it
//! and not ended by it, nullified periods excluded (they leave numerator and denominator).
//! One statement over one table (the periods carry the pathway's listed columns); the arithmetic (weeks waited, bands, the 92% standard, the forecast) is
//! `libs/rtt`'s, done by the caller.
use super::{stmt, StoreError};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult, Value};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct WaitingRow {
    pub pathway_id: Uuid,
    pub patient_id: String,
    pub ppid: String,
    pub issuer: String,
    pub specialty: String,
    pub treatment_function: String,
    pub consultant: Option<String>,
    pub team: Option<String>,
    pub start_date: NaiveDate,
}

// By position: the list reads a hundred thousand rows, and looking columns up by name is
// a measurable part of that (docs/benchmarks/waiting-list.md).
impl FromQueryResult for WaitingRow {
    fn from_query_result(r: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            pathway_id: r.try_get_by_index(0)?,
            patient_id: r.try_get_by_index(1)?,
            ppid: r.try_get_by_index(2)?,
            issuer: r.try_get_by_index(3)?,
            specialty: r.try_get_by_index(4)?,
            treatment_function: r.try_get_by_index(5)?,
            consultant: r.try_get_by_index(6)?,
            team: r.try_get_by_index(7)?,
            start_date: r.try_get_by_index(8)?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct WaitingFilter {
    pub specialty: Option<String>,
    pub treatment_function: Option<String>,
    pub consultant: Option<String>,
    pub team: Option<String>,
}

/// What a row is filtered by: incomplete at `census`, and the filter's columns.
fn filtered(columns: &str, census: NaiveDate, f: &WaitingFilter) -> (String, Vec<Value>) {
    let mut sql = format!(
        "SELECT {columns} FROM rtt_period
          WHERE start_date <= $1 AND (end_date IS NULL OR end_date > $1)
            AND state <> 'nullified'"
    );
    let mut v: Vec<Value> = vec![census.into()];
    for (col, val) in [
        ("specialty", &f.specialty),
        ("treatment_function", &f.treatment_function),
        ("consultant", &f.consultant),
        ("team", &f.team),
    ] {
        if let Some(x) = val {
            v.push(x.clone().into());
            sql.push_str(&format!(" AND {col} = ${}", v.len()));
        }
    }
    (sql, v)
}

const ROW: &str = "pathway_id, patient_id, ppid, issuer, specialty, treatment_function, consultant, team, start_date";

/// Every incomplete pathway, whole rows (the CSV export).
pub async fn incomplete<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
) -> Result<Vec<WaitingRow>, StoreError> {
    let (sql, v) = filtered(ROW, census, f);
    Ok(WaitingRow::find_by_statement(stmt(&sql, v)).all(db).await?)
}

/// One page, longest wait (earliest clock start) first.
pub async fn incomplete_page<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
    limit: usize,
    offset: usize,
) -> Result<Vec<WaitingRow>, StoreError> {
    let (mut sql, v) = filtered(ROW, census, f);
    sql.push_str(&format!(
        " ORDER BY start_date, ppid, issuer LIMIT {limit} OFFSET {offset}"
    ));
    Ok(WaitingRow::find_by_statement(stmt(&sql, v)).all(db).await?)
}

/// Incomplete pathways whose clocks started on one of `dates` (the forecast's).
pub async fn incomplete_started_on<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
    dates: Vec<NaiveDate>,
) -> Result<Vec<WaitingRow>, StoreError> {
    let (mut sql, mut v) = filtered(ROW, census, f);
    v.push(dates.into());
    sql.push_str(&format!(" AND start_date = ANY(${}::date[])", v.len()));
    Ok(WaitingRow::find_by_statement(stmt(&sql, v)).all(db).await?)
}

/// How many incomplete pathways started on each date: all the list's standard needs, in a
/// few hundred rows rather than one per pathway (ADR 29).
#[derive(Debug, Clone, Copy)]
pub struct StartCount {
    pub start_date: NaiveDate,
    pub pathways: i64,
}

impl FromQueryResult for StartCount {
    fn from_query_result(r: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            start_date: r.try_get_by_index(0)?,
            pathways: r.try_get_by_index(1)?,
        })
    }
}

pub async fn incomplete_start_counts<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
) -> Result<Vec<StartCount>, StoreError> {
    let (mut sql, v) = filtered("start_date, count(*)", census, f);
    sql.push_str(" GROUP BY start_date");
    Ok(StartCount::find_by_statement(stmt(&sql, v)).all(db).await?)
}

/// The clock start, specialty and consultant of every incomplete pathway: what the standard,
/// its breakdowns and the forecast's arithmetic need, without moving whole rows.
#[derive(Debug, Clone)]
pub struct StartRow {
    pub start_date: NaiveDate,
    pub specialty: String,
    pub consultant: Option<String>,
}

impl FromQueryResult for StartRow {
    fn from_query_result(r: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            start_date: r.try_get_by_index(0)?,
            specialty: r.try_get_by_index(1)?,
            consultant: r.try_get_by_index(2)?,
        })
    }
}

pub async fn incomplete_starts<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
) -> Result<Vec<StartRow>, StoreError> {
    let (sql, v) = filtered("start_date, specialty, consultant", census, f);
    Ok(StartRow::find_by_statement(stmt(&sql, v)).all(db).await?)
}
