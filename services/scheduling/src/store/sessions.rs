//! Sessions generated from a template for a window of dates: in the clinic's local time,
//! skipping the trust's bank holidays, idempotently — a date that has its session already is
//! left as it is, so generating again never disturbs a booked slot.
use super::{stmt, StoreError, ZONE};
use crate::domain::{Pattern, SessionId, TemplateId};
use chrono::{NaiveDate, NaiveTime};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Generated {
    pub sessions_created: u32,
    pub slots_created: u64,
    /// Dates the pattern gives that already had their session.
    pub sessions_kept: u32,
    pub bank_holidays_skipped: Vec<NaiveDate>,
}

#[derive(FromQueryResult)]
struct TemplateRow {
    clinic_id: Uuid,
    pattern: serde_json::Value,
    starts: NaiveTime,
    ends: NaiveTime,
    slot_minutes: i32,
    capacity: i32,
    overbook: i32,
    slot_type: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

#[derive(FromQueryResult)]
struct Day {
    on_date: NaiveDate,
}

pub async fn generate(
    txn: &DatabaseTransaction,
    template: TemplateId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Generated, StoreError> {
    let t = TemplateRow::find_by_statement(stmt(
        "SELECT clinic_id, pattern, starts, ends, slot_minutes, capacity, overbook, slot_type, valid_from, valid_to
           FROM session_template WHERE id = $1 FOR SHARE",
        vec![template.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let pattern: Pattern = serde_json::from_value(t.pattern)
        .map_err(|e| sea_orm::DbErr::Custom(format!("stored pattern: {e}")))?;
    let from = from.max(t.valid_from);
    let to = t.valid_to.map_or(to, |v| v.min(to));
    let holidays: HashSet<NaiveDate> = Day::find_by_statement(stmt(
        "SELECT on_date FROM bank_holiday WHERE on_date BETWEEN $1 AND $2",
        vec![from.into(), to.into()],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(|d| d.on_date)
    .collect();
    let slots_per_session =
        ((t.ends - t.starts).num_minutes() / i64::from(t.slot_minutes.max(1))).max(0);
    let mut out = Generated {
        sessions_created: 0,
        slots_created: 0,
        sessions_kept: 0,
        bank_holidays_skipped: Vec::new(),
    };
    for day in pattern.dates(from, to) {
        if holidays.contains(&day) {
            out.bank_holidays_skipped.push(day);
            continue;
        }
        let session = SessionId::new().as_uuid();
        let created = txn
            .execute(stmt(
                &format!(
                    "INSERT INTO session (id, clinic_id, template_id, on_date, starts_at, ends_at)
                     VALUES ($1, $2, $3, $4, ($4 + $5::time) AT TIME ZONE '{ZONE}', ($4 + $6::time) AT TIME ZONE '{ZONE}')
                     ON CONFLICT (template_id, on_date) DO NOTHING"
                ),
                vec![
                    session.into(),
                    t.clinic_id.into(),
                    template.as_uuid().into(),
                    day.into(),
                    t.starts.into(),
                    t.ends.into(),
                ],
            ))
            .await?
            .rows_affected();
        if created == 0 {
            out.sessions_kept += 1;
            continue;
        }
        out.sessions_created += 1;
        // Each slot's local start and end, turned into instants in the clinic's zone: a
        // 09:00 clinic is at 09:00 in July and in January.
        out.slots_created += txn
            .execute(stmt(
                &format!(
                    "INSERT INTO slot (id, session_id, clinic_id, starts_at, ends_at, slot_type, capacity, overbook)
                     SELECT gen_random_uuid(), $1, $2,
                            ($3 + $4::time + make_interval(mins => (i * $5)::int)) AT TIME ZONE '{ZONE}',
                            ($3 + $4::time + make_interval(mins => ((i + 1) * $5)::int)) AT TIME ZONE '{ZONE}',
                            $6, $7, $8
                       FROM generate_series(0, $9 - 1) AS i"
                ),
                vec![
                    session.into(),
                    t.clinic_id.into(),
                    day.into(),
                    t.starts.into(),
                    t.slot_minutes.into(),
                    t.slot_type.clone().into(),
                    t.capacity.into(),
                    t.overbook.into(),
                    slots_per_session.into(),
                ],
            ))
            .await?
            .rows_affected();
    }
    Ok(out)
}
