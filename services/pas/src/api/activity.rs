//! Activity over JSON or CSV: a record, its coding, the monthly extract for commissioners,
//! the reconciliation report. The use cases are `app::activity`'.
use super::bodies::{id, Errors};
use super::Caller;
use crate::app::activity as app;
use crate::app::{domain_error, refuse};
use crate::domain::ActivityId;
use crate::domain::{Icd10, Opcs4};
use crate::store::Coding;
use crate::store::{Activity, Reconciliation};
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::{Datelike, Duration, Months, NaiveDate, Utc};
use serde::Deserialize;
use serde::Serialize;
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use tessera_edge::tabular::{answer, only, wants_csv};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodingBody {
    /// ICD-10, primary first (J18.9).
    #[serde(default)]
    pub diagnoses: Vec<String>,
    /// OPCS-4, main first (W40.1).
    #[serde(default)]
    pub procedures: Vec<String>,
}

fn parse_coding(b: CodingBody, by: &str) -> Result<Coding, Vec<FieldError>> {
    let mut e = Errors::default();
    if b.diagnoses.is_empty() {
        e.add("diagnoses", "required", "at least the primary diagnosis");
    }
    if b.diagnoses.len() > 20 || b.procedures.len() > 24 {
        e.add(
            "diagnoses",
            "range",
            "at most 20 diagnoses and 24 procedures",
        );
    }
    let diagnoses: Vec<Icd10> = b
        .diagnoses
        .iter()
        .filter_map(|d| e.take(Icd10::parse(d)))
        .collect();
    let procedures: Vec<Opcs4> = b
        .procedures
        .iter()
        .filter_map(|p| e.take(Opcs4::parse(p)))
        .collect();
    e.done(Some(Coding {
        diagnoses,
        procedures,
        by: by.to_string(),
    }))
}

const JSON: Flavour = Flavour::Json;

fn invalid(f: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(f, code, message)])
}

fn activity_id(s: &str) -> Result<ActivityId, ApiError> {
    id("id", s).map(ActivityId::from).map_err(domain_error)
}

#[utoipa::path(
    tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The activity record")),
    responses((status = 200, description = "The record", body = Activity))
)]
#[get("/activity/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match activity_id(&path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::read(&auth, id).await?))
}

/// Sets the record's clinical coding: ICD-10 diagnoses (primary first) and OPCS-4
/// procedures, format-checked; replaces what was there. A withdrawn record is 409.
#[utoipa::path(
    tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The activity record")),
    responses((status = 200, description = "The record, coded", body = Activity))
)]
#[put("/activity/{id}/coding")]
pub async fn set_coding(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CodingBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = activity_id(&path).and_then(|id| {
        parse_coding(body.into_inner(), &auth.identity.user_id)
            .map(|c| (id, c))
            .map_err(ApiError::validation)
    });
    let (id, c) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    Ok(HttpResponse::Ok().json(app::code(&auth, id, c).await?))
}

/// One row of the extract: the record as the CDS would carry it (codes without dots,
/// diagnoses and procedures `;`-separated, primary first).
#[derive(Serialize)]
struct ExtractRow {
    activity_id: uuid::Uuid,
    cds_type: &'static str,
    patient_id: String,
    spell_number: Option<i64>,
    start_date: NaiveDate,
    end_date: NaiveDate,
    treatment_function: String,
    consultant: String,
    admission_method: Option<String>,
    admission_source: Option<String>,
    discharge_method: Option<String>,
    discharge_destination: Option<String>,
    attendance_code: Option<String>,
    first_attendance: Option<String>,
    ppid: Option<String>,
    ppid_issuer: Option<String>,
    commissioner: Option<String>,
    diagnoses: String,
    procedures: String,
}

fn row(a: Activity) -> ExtractRow {
    let undotted = |v: &[String]| {
        v.iter()
            .map(|c| c.replace('.', ""))
            .collect::<Vec<_>>()
            .join(";")
    };
    ExtractRow {
        activity_id: a.id,
        cds_type: if a.kind == "outpatient" { "020" } else { "130" },
        patient_id: a.patient_id,
        spell_number: a.spell_number,
        start_date: a.start_date,
        end_date: a.end_date,
        treatment_function: a.treatment_function,
        consultant: a.consultant,
        admission_method: a.admission_method,
        admission_source: a.admission_source,
        discharge_method: a.discharge_method,
        discharge_destination: a.discharge_destination,
        attendance_code: a.attendance_code,
        first_attendance: a.first_attendance,
        ppid: a.ppid,
        ppid_issuer: a.ppid_issuer,
        commissioner: a.commissioner,
        diagnoses: undotted(&a.diagnoses),
        procedures: undotted(&a.procedures),
    }
}

fn month(q: &HashMap<String, String>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = Utc::now().date_naive();
    let first = match q.get("month") {
        None => today.with_day(1).unwrap_or(today),
        Some(m) => NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
            .map_err(|_| invalid("month", "format", "a month, YYYY-MM"))?,
    };
    let next = first
        .checked_add_months(Months::new(1))
        .ok_or_else(|| invalid("month", "range", "a month this side of the year 262143"))?;
    Ok((first, next))
}

/// The month's live activity records (by end date; this month by default) for
/// commissioners: JSON rows, or CSV (`format=csv`). Columns: docs/services/pas.md.
#[utoipa::path(
    tag = "activity",
    params(
        ("month" = Option<String>, Query, description = "YYYY-MM (this month)"),
        ("format" = Option<String>, Query, description = "json (default) or csv")
    ),
    responses((status = 200, description = "Extract rows", content(
        (Object = "application/json"),
        (String = "text/csv")
    )))
)]
#[get("/activity/extract")]
pub async fn extract(
    caller: Caller,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = (|| {
        only(&q, &["month", "format"])?;
        Ok::<_, ApiError>((month(&q)?, wants_csv(&req, &q)?))
    })();
    let ((from, to), csv) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let rows: Vec<ExtractRow> = app::extract(&auth, from, to)
        .await?
        .into_iter()
        .map(row)
        .collect();
    answer(rows, csv, &format!("activity-{}", from.format("%Y-%m")))
}

/// Every spell discharged and every appointment attended from `from` to `to` (local dates,
/// inclusive; the last 30 days by default) against its activity records: what is missing,
/// doubled, or uncoded `uncoded_days` (5) after it was recorded.
#[utoipa::path(
    tag = "activity",
    params(
        ("from" = Option<String>, Query, description = "YYYY-MM-DD (29 days ago)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive (today)"),
        ("uncoded_days" = Option<u32>, Query, description = "0 to 365 (5)")
    ),
    responses((status = 200, description = "The reconciliation", body = Reconciliation))
)]
#[get("/reports/reconciliation")]
pub async fn reconciliation(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = (|| {
        only(&q, &["from", "to", "uncoded_days"])?;
        let today = Utc::now().date_naive();
        let day = |k: &'static str, d| {
            q.get(k).map_or(Ok(d), |v| {
                NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| invalid(k, "date", "a date, YYYY-MM-DD"))
            })
        };
        let (from, to) = (day("from", today - Duration::days(29))?, day("to", today)?);
        if to < from || to > from + Duration::days(366) {
            return Err(invalid(
                "to",
                "range",
                "on or after from, within a year of it",
            ));
        }
        let days = match q.get("uncoded_days") {
            None => 5,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|d| (0..=365).contains(d))
                .ok_or_else(|| invalid("uncoded_days", "range", "0 to 365"))?,
        };
        Ok((from, to + Duration::days(1), days))
    })();
    let (from, to, days) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let mut r: Reconciliation = app::reconcile(&auth, from, to, days).await?;
    r.to = to - Duration::days(1);
    Ok(HttpResponse::Ok().json(r))
}
