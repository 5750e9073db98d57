//! Finding patients: demographic search (normalised names, prefix match), the candidates the
//! matcher scores, and a patient's demographic history.
use super::patients::{norm, stmt, Row, COLUMNS};
use super::StoreError;
use crate::domain::{Patient, PatientId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;

/// Demographic search. FHIR string semantics: case-insensitive, starts-with.
#[derive(Debug, Default, Clone)]
pub struct SearchQuery {
    pub family: Option<String>,
    pub given: Option<String>,
    /// Born on or after (inclusive).
    pub born_from: Option<NaiveDate>,
    /// Born on or before (inclusive).
    pub born_to: Option<NaiveDate>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub limit: u64,
    /// Matches skipped before this page.
    pub offset: u64,
}

impl SearchQuery {
    /// Born on `d` exactly.
    pub fn born_on(mut self, d: Option<NaiveDate>) -> Self {
        self.born_from = d;
        self.born_to = d;
        self
    }
}

/// The greatest code point: every name that starts with a prefix sorts before the prefix
/// followed by it (byte order, which is code point order in UTF-8).
const NAME_ORDER_END: char = '\u{10FFFF}';

/// One page of the matches, and how many match in all. A limit of 0 counts only.
pub async fn search(
    txn: &DatabaseTransaction,
    q: &SearchQuery,
) -> Result<(Vec<Patient>, u64), StoreError> {
    let mut clauses = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut push = |clause: &str, v: Value| {
        values.push(v);
        clauses.push(clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(f) = &q.family {
        // Starts-with as a range in byte order, [prefix, prefix + U+10FFFF): the name-order
        // index serves it with any plan, and walks the matches already sorted (ADR 29).
        let prefix = norm(f);
        push("family_norm COLLATE \"C\" >= ?", prefix.clone().into());
        push(
            "family_norm COLLATE \"C\" < ?",
            format!("{prefix}{NAME_ORDER_END}").into(),
        );
    }
    if let Some(g) = &q.given {
        push(
            "EXISTS (SELECT 1 FROM unnest(given_norm) g WHERE g LIKE ? || '%')",
            like_escape(&norm(g)).into(),
        );
    }
    if let Some(d) = q.born_from {
        push("birth_date >= ?", d.into());
    }
    if let Some(d) = q.born_to {
        push("birth_date <= ?", d.into());
    }
    if let Some(s) = &q.sex {
        push("sex = ?", s.clone().into());
    }
    if let Some(p) = &q.postcode {
        push(
            "postcode_norm = ?",
            p.to_uppercase().replace(' ', "").into(),
        );
    }
    if clauses.is_empty() {
        return Ok((Vec::new(), 0));
    }
    clauses.push("merged_into IS NULL".into());
    let filter = clauses.join(" AND ");
    let total: i64 = txn
        .query_one(stmt(
            &format!("SELECT count(*) AS n FROM patient WHERE {filter}"),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    if q.limit == 0 {
        return Ok((Vec::new(), total as u64));
    }
    values.push((q.limit.min(100) as i64).into());
    values.push((q.offset.min(i64::MAX as u64) as i64).into());
    let sql = format!(
        "SELECT {COLUMNS} FROM patient WHERE {filter} ORDER BY family_norm COLLATE \"C\", birth_date, id LIMIT ${} OFFSET ${}",
        values.len() - 1,
        values.len()
    );
    let page = Row::find_by_statement(stmt(&sql, values))
        .all(txn)
        .await?
        .into_iter()
        .map(Row::into_patient)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((page, total as u64))
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(Debug, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub demographics: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

pub async fn history(
    txn: &DatabaseTransaction,
    id: PatientId,
) -> Result<Vec<HistoryEntry>, StoreError> {
    Ok(HistoryEntry::find_by_statement(stmt(
        "SELECT version, demographics, recorded_at, recorded_by FROM patient_history WHERE patient_id = $1 ORDER BY version",
        vec![id.uuid().into()],
    ))
    .all(txn)
    .await?)
}

/// Candidates for matching, by the same blocking idea as the matcher, through indexes: the
/// NHS number; the birth date with day and month either way; the family name's first letters
/// with the birth year; the postcode.
pub async fn match_candidates(
    txn: &DatabaseTransaction,
    nhs_number: Option<&str>,
    birth_date: Option<NaiveDate>,
    family: Option<&str>,
    postcode: Option<&str>,
    limit: u64,
) -> Result<Vec<Patient>, StoreError> {
    use chrono::Datelike;
    let mut dates: Vec<NaiveDate> = birth_date.into_iter().collect();
    if let Some(d) = birth_date {
        if let Some(swapped) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()) {
            dates.push(swapped);
        }
    }
    let prefix: Option<String> = family
        .map(norm)
        .map(|f| f.chars().take(3).collect::<String>());
    let (year_start, year_end) = match birth_date {
        Some(d) => (
            NaiveDate::from_ymd_opt(d.year(), 1, 1),
            NaiveDate::from_ymd_opt(d.year(), 12, 31),
        ),
        None => (None, None),
    };
    let postcode = postcode.map(|p| p.to_uppercase().replace(' ', ""));
    Row::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM patient WHERE merged_into IS NULL AND (
               ($1::text IS NOT NULL AND nhs_number = $1)
            OR birth_date = ANY($2)
            OR ($3::text IS NOT NULL AND $4::date IS NOT NULL AND left(family_norm, 3) = $3 AND birth_date BETWEEN $4 AND $5)
            OR ($6::text IS NOT NULL AND postcode_norm = $6))
            LIMIT $7"
        ),
        vec![
            nhs_number.map(str::to_owned).into(),
            dates.into(),
            prefix.into(),
            year_start.into(),
            year_end.into(),
            postcode.into(),
            (limit as i64).into(),
        ],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(Row::into_patient)
    .collect()
}
