//! The waiting list: incomplete pathways at a census date — periods started on or before it
//! and not ended by it, nullified periods excluded (they leave numerator and denominator).
//! One statement; the arithmetic (weeks waited, bands, the 92% standard, the forecast) is
//! `libs/rtt`'s, done by the caller.
use super::{stmt, StoreError};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use uuid::Uuid;

#[derive(Debug, Clone, FromQueryResult)]
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

#[derive(Debug, Clone, Default)]
pub struct WaitingFilter {
    pub specialty: Option<String>,
    pub treatment_function: Option<String>,
    pub consultant: Option<String>,
    pub team: Option<String>,
}

pub async fn incomplete<C: ConnectionTrait>(
    db: &C,
    census: NaiveDate,
    f: &WaitingFilter,
) -> Result<Vec<WaitingRow>, StoreError> {
    let mut sql = String::from(
        "SELECT p.id AS pathway_id, p.patient_id, p.ppid, p.issuer, p.specialty,
                p.treatment_function, p.consultant, p.team, r.start_date
           FROM rtt_period r JOIN pathway p ON p.id = r.pathway_id
          WHERE r.start_date <= $1 AND (r.end_date IS NULL OR r.end_date > $1)
            AND r.state <> 'nullified'",
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
            sql.push_str(&format!(" AND p.{col} = ${}", v.len()));
        }
    }
    Ok(WaitingRow::find_by_statement(stmt(&sql, v)).all(db).await?)
}
