//! Appointments found by patient, local date and status (FHIR's `Appointment` search),
//! earliest first.
use super::appointments::{columns, Appointment};
use super::{stmt, StoreError, ZONE};
use chrono::NaiveDate;
use sea_orm::{DatabaseTransaction, FromQueryResult, Value};

#[derive(Debug, Clone, Default)]
pub struct AppointmentSearch {
    pub patient: Option<String>,
    /// Local dates, inclusive, of the appointment's start.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The service's statuses (`booked`, `cancelled`, `attended`, `not-seen`,
    /// `did-not-attend`); empty: any.
    pub statuses: Vec<String>,
    pub limit: u64,
}

pub async fn search_appointments(
    txn: &DatabaseTransaction,
    q: &AppointmentSearch,
) -> Result<Vec<Appointment>, StoreError> {
    let mut values: Vec<Value> = Vec::new();
    let mut filter = String::from("true");
    let mut add = |sql: &str, v: Value| {
        values.push(v);
        filter.push_str(&sql.replace("$?", &format!("${}", values.len())));
    };
    if let Some(p) = &q.patient {
        add(" AND patient_id = $?", p.clone().into());
    }
    if let Some(f) = q.from {
        add(
            &format!(" AND starts_at >= ($?::date::timestamp AT TIME ZONE '{ZONE}')"),
            f.into(),
        );
    }
    if let Some(t) = q.to {
        add(
            &format!(" AND starts_at < (($?::date + 1)::timestamp AT TIME ZONE '{ZONE}')"),
            t.into(),
        );
    }
    if !q.statuses.is_empty() {
        add(" AND status = ANY($?)", q.statuses.clone().into());
    }
    values.push((q.limit.clamp(1, 1001) as i64).into());
    let sql = format!(
        "SELECT {} FROM appointment WHERE {filter} ORDER BY starts_at, id LIMIT ${}",
        columns(),
        values.len()
    );
    Ok(Appointment::find_by_statement(stmt(&sql, values))
        .all(txn)
        .await?)
}
