//! Slots: the first free ones for a service (availability), and holds — a place kept for a
//! few minutes during a booking conversation, lapsing by itself when its time is up.
use super::{local, stmt, StoreError, ZONE};
use crate::api::errors;
use crate::domain::{ClinicId, HoldId, SlotId, SlotType};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Slot {
    pub id: Uuid,
    pub session_id: Uuid,
    pub clinic_id: Uuid,
    pub clinic_code: String,
    /// Local time with the day's offset (`+00:00` or `+01:00`).
    pub start: String,
    pub end: String,
    pub slot_type: String,
    pub capacity: i32,
    pub overbook: i32,
    pub booked: i32,
    /// Places held by booking conversations that have not lapsed.
    pub held: i32,
    /// Places a booking may take now: capacity less booked and held.
    pub free: i32,
    /// FHIR's `Slot.status`: `free`, `busy` (every place booked or held) or
    /// `busy-unavailable` (blocked, or its session cancelled).
    pub status: String,
}

/// What a search for free slots asks.
#[derive(Debug, Clone)]
pub struct Availability {
    /// Local dates, inclusive: slots starting on them (and not yet started).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub clinic: Option<ClinicId>,
    pub specialty: Option<String>,
    pub slot_type: Option<SlotType>,
    pub site: Option<String>,
    pub clinician: Option<String>,
    pub limit: u64,
    /// `None`: free slots only (the booking search). Otherwise slots in any of these FHIR
    /// statuses (`free`, `busy`, `busy-unavailable`), as FHIR's `Slot` search asks.
    pub statuses: Option<Vec<String>>,
}

const HELD: &str =
    "(SELECT count(*) FROM slot_hold h WHERE h.slot_id = s.id AND h.expires_at > now())::int";

/// A slot's FHIR status, as SQL over `s` (slot) and `se` (its session).
fn status() -> String {
    format!(
        "CASE WHEN s.blocked OR se.cancelled_at IS NOT NULL THEN 'busy-unavailable'
              WHEN s.booked + {HELD} >= s.capacity THEN 'busy' ELSE 'free' END"
    )
}

/// The first free slots in the window, earliest first. Narrowed to some clinics (by clinic,
/// specialty, site or clinician), each matching clinic gives its own first `limit` slots from
/// its `(clinic_id, starts_at)` index and the earliest `limit` of those are the answer, so
/// the other clinics' slots are never walked; across every clinic, the slots are read in
/// time order from `slot_free` and the first `limit` free ones taken (both measured in
/// docs/benchmarks/scheduling.md).
pub async fn availability(
    txn: &DatabaseTransaction,
    q: &Availability,
) -> Result<Vec<Slot>, StoreError> {
    let mut values: Vec<Value> = vec![q.from.into(), q.to.into()];
    let (mut clinics, mut slots) = (String::new(), String::new());
    let mut add = |into: &mut String, sql: &str, v: Value| {
        values.push(v);
        into.push_str(&format!(" AND {sql} ${}", values.len()));
    };
    if let Some(c) = q.clinic {
        add(&mut clinics, "c.id =", c.as_uuid().into());
    }
    if let Some(s) = &q.specialty {
        add(&mut clinics, "c.specialty =", s.clone().into());
    }
    if let Some(s) = &q.site {
        add(&mut clinics, "c.site =", s.clone().into());
    }
    if let Some(c) = &q.clinician {
        add(&mut clinics, "c.clinician =", c.clone().into());
    }
    if let Some(t) = q.slot_type {
        add(&mut slots, "s.slot_type =", t.as_str().into());
    }
    match &q.statuses {
        None => slots.push_str(&format!(
            " AND NOT s.blocked AND se.cancelled_at IS NULL AND s.booked < s.capacity
              AND s.booked + {HELD} < s.capacity"
        )),
        Some(list) => {
            values.push(list.clone().into());
            slots.push_str(&format!(" AND ({}) = ANY(${})", status(), values.len()));
        }
    }
    values.push((q.limit.clamp(1, 1001) as i64).into());
    let limit = values.len();
    let columns = format!(
        "s.id, s.session_id, s.clinic_id, c.code AS clinic_code,
         {start} AS start, {end} AS \"end\", s.slot_type, s.capacity, s.overbook, s.booked,
         {HELD} AS held, greatest(s.capacity - s.booked - {HELD}, 0) AS free, {status} AS status",
        start = local("s.starts_at"),
        end = local("s.ends_at"),
        status = status(),
    );
    let window = format!(
        "s.starts_at >= ($1::date::timestamp AT TIME ZONE '{ZONE}')
         AND s.starts_at < (($2::date + 1)::timestamp AT TIME ZONE '{ZONE}') AND s.starts_at > now()"
    );
    if clinics.is_empty() {
        let sql = format!(
            "SELECT {columns}
               FROM slot s JOIN clinic c ON c.id = s.clinic_id JOIN session se ON se.id = s.session_id
              WHERE {window}{slots}
              ORDER BY s.starts_at, c.code LIMIT ${limit}"
        );
        return Ok(Slot::find_by_statement(stmt(&sql, values)).all(txn).await?);
    }
    let sql = format!(
        "SELECT {columns}
           FROM clinic c
          CROSS JOIN LATERAL (
                SELECT s.* FROM slot s JOIN session se ON se.id = s.session_id
                 WHERE s.clinic_id = c.id AND {window}{slots}
                 ORDER BY s.starts_at LIMIT ${limit}) s
           JOIN session se ON se.id = s.session_id
          WHERE true{clinics}
          ORDER BY s.starts_at, c.code LIMIT ${limit}"
    );
    Ok(Slot::find_by_statement(stmt(&sql, values)).all(txn).await?)
}

/// One slot as it is now.
pub async fn slot(txn: &DatabaseTransaction, id: SlotId) -> Result<Slot, StoreError> {
    Slot::find_by_statement(stmt(
        &format!(
            "SELECT s.id, s.session_id, s.clinic_id, c.code AS clinic_code,
                    {start} AS start, {end} AS \"end\", s.slot_type, s.capacity, s.overbook, s.booked,
                    {HELD} AS held, greatest(s.capacity - s.booked - {HELD}, 0) AS free, {status} AS status
               FROM slot s JOIN clinic c ON c.id = s.clinic_id JOIN session se ON se.id = s.session_id
              WHERE s.id = $1",
            start = local("s.starts_at"),
            end = local("s.ends_at"),
            status = status(),
        ),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A slot locked for a change of its places, with what decides whether it can take one.
#[derive(Debug, FromQueryResult)]
pub(super) struct Locked {
    pub clinic_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub overbook: i32,
    pub booked: i32,
    pub unavailable: bool,
}

/// Locks the slot's row: every change to its places happens under this lock, so two
/// bookings of its last place are decided one after the other (the loser sees it taken).
pub(super) async fn lock(txn: &DatabaseTransaction, id: SlotId) -> Result<Locked, StoreError> {
    let l = Locked::find_by_statement(stmt(
        "SELECT s.clinic_id, s.starts_at, s.ends_at, s.capacity, s.overbook, s.booked,
                (s.blocked OR se.cancelled_at IS NOT NULL) AS unavailable
           FROM slot s JOIN session se ON se.id = s.session_id
          WHERE s.id = $1 FOR UPDATE OF s",
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if l.unavailable {
        return Err(StoreError::Conflict(
            errors::SLOT_UNAVAILABLE,
            "the slot is blocked or its session cancelled".into(),
        ));
    }
    Ok(l)
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// Places held in `slot` by holds other than `except`, not lapsed.
pub(super) async fn held_by_others(
    txn: &DatabaseTransaction,
    slot: SlotId,
    except: Option<HoldId>,
) -> Result<i32, StoreError> {
    let c = Count::find_by_statement(stmt(
        "SELECT count(*) AS n FROM slot_hold WHERE slot_id = $1 AND expires_at > now()
            AND id IS DISTINCT FROM $2",
        vec![slot.as_uuid().into(), except.map(HoldId::as_uuid).into()],
    ))
    .one(txn)
    .await?
    .map_or(0, |c| c.n);
    Ok(i32::try_from(c).unwrap_or(i32::MAX))
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Hold {
    pub id: Uuid,
    pub slot_id: Uuid,
    pub expires_at: String,
}

/// Holds a place in `slot` for `seconds`; refused when no place is free.
pub async fn hold(
    txn: &DatabaseTransaction,
    slot: SlotId,
    user: &str,
    seconds: u32,
) -> Result<Hold, StoreError> {
    let l = lock(txn, slot).await?;
    if l.booked + held_by_others(txn, slot, None).await? >= l.capacity {
        return Err(StoreError::Conflict(
            errors::SLOT_FULL,
            "every place in the slot is booked or held".into(),
        ));
    }
    Hold::find_by_statement(stmt(
        &format!(
            "INSERT INTO slot_hold (id, slot_id, user_id, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))
             RETURNING id, slot_id, {} AS expires_at",
            local("expires_at")
        ),
        vec![
            HoldId::new().as_uuid().into(),
            slot.as_uuid().into(),
            user.into(),
            f64::from(seconds).into(),
        ],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}
