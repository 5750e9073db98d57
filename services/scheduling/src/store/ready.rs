//! The trust's referrals as the referrals service publishes them (what booking needs of
//! each, and its e-RS state), and the two worklists read from them: referrals ready to book
//! (ACCEPTED, no booked appointment), and appointment-slot issues (ready, and no free slot in
//! a clinic of the referral's treatment function before its priority's target date).
use super::{stmt, StoreError};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

/// What a referral's receipt says booking needs to know.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub team: String,
    pub ppid: String,
    pub ppid_issuer: String,
    /// YYYY-MM-DD.
    pub received_on: String,
    pub ubrn: String,
}

/// One referral event: its state now and, with a receipt, what was referred.
#[derive(Debug, Clone)]
pub struct ReferralSeen {
    pub referral_id: Uuid,
    pub patient_id: String,
    pub state: String,
    pub received: Option<Received>,
}

fn text(s: &str) -> sea_orm::Value {
    (!s.is_empty()).then(|| s.to_string()).into()
}

/// Keeps the referral's row: a receipt writes what was referred, every event the state.
pub async fn referral_seen(txn: &DatabaseTransaction, s: &ReferralSeen) -> Result<(), StoreError> {
    let r = s.received.clone().unwrap_or_default();
    let received_on = chrono::NaiveDate::parse_from_str(&r.received_on, "%Y-%m-%d").ok();
    txn.execute(stmt(
        "INSERT INTO referral_seen (referral_id, patient_id, state, priority, specialty,
                treatment_function, team, ppid, ppid_issuer, received_on, ubrn, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
         ON CONFLICT (referral_id) DO UPDATE SET state = EXCLUDED.state, changed_at = now(),
             priority = coalesce(EXCLUDED.priority, referral_seen.priority),
             specialty = coalesce(EXCLUDED.specialty, referral_seen.specialty),
             treatment_function = coalesce(EXCLUDED.treatment_function, referral_seen.treatment_function),
             team = coalesce(EXCLUDED.team, referral_seen.team),
             ppid = coalesce(EXCLUDED.ppid, referral_seen.ppid),
             ppid_issuer = coalesce(EXCLUDED.ppid_issuer, referral_seen.ppid_issuer),
             received_on = coalesce(EXCLUDED.received_on, referral_seen.received_on),
             ubrn = coalesce(EXCLUDED.ubrn, referral_seen.ubrn)",
        vec![
            s.referral_id.into(),
            s.patient_id.clone().into(),
            s.state.clone().into(),
            text(&r.priority),
            text(&r.specialty),
            text(&r.treatment_function),
            text(&r.team),
            text(&r.ppid),
            text(&r.ppid_issuer),
            received_on.into(),
            text(&r.ubrn),
        ],
    ))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct ReadyItem {
    pub referral_id: Uuid,
    pub patient_id: String,
    /// `two-week-wait`, `urgent`, `routine` (empty when the receipt was not seen).
    pub priority: Option<String>,
    pub specialty: Option<String>,
    pub treatment_function: Option<String>,
    pub team: Option<String>,
    /// The RTT pathway, to name when booking.
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    pub ubrn: Option<String>,
    pub received_on: Option<chrono::NaiveDate>,
    /// The date by which the priority's target says it should be seen.
    pub target_date: Option<chrono::NaiveDate>,
}

/// Which referrals a worklist shows.
#[derive(Debug, Clone, Default)]
pub struct ReadyFilter {
    pub treatment_function: Option<String>,
    pub priority: Option<String>,
    pub limit: u64,
}

/// The priority's target wait in days (two-week wait 14, urgent 28, routine 126 = 18
/// weeks), as SQL over `priority`.
const TARGET: &str =
    "received_on + CASE priority WHEN 'two-week-wait' THEN 14 WHEN 'urgent' THEN 28 ELSE 126 END";

const READY: &str = "FROM referral_seen r
  WHERE r.state = 'ACCEPTED'
    AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.referral_id = r.referral_id AND a.status = 'booked')
    AND ($1::text IS NULL OR r.treatment_function = $1) AND ($2::text IS NULL OR r.priority = $2)";

fn columns() -> String {
    format!(
        "r.referral_id, r.patient_id, r.priority, r.specialty, r.treatment_function, r.team, r.ppid,
         r.ppid_issuer, r.ubrn, r.received_on, ({TARGET}) AS target_date"
    )
}

const ORDER: &str =
    "ORDER BY CASE r.priority WHEN 'two-week-wait' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
                      r.received_on NULLS LAST, r.referral_id LIMIT $3";

fn values(f: &ReadyFilter) -> Vec<sea_orm::Value> {
    vec![
        f.treatment_function.clone().into(),
        f.priority.clone().into(),
        (f.limit.clamp(1, 1000) as i64).into(),
    ]
}

/// Accepted referrals with no booked appointment: 2WW first, then urgent, then routine, each
/// longest waiting first.
pub async fn ready_to_book(
    txn: &DatabaseTransaction,
    f: &ReadyFilter,
) -> Result<Vec<ReadyItem>, StoreError> {
    Ok(ReadyItem::find_by_statement(stmt(
        &format!("SELECT {} {READY} {ORDER}", columns()),
        values(f),
    ))
    .all(txn)
    .await?)
}

/// Ready referrals that no free slot can serve in time: no unblocked slot with a free place,
/// in a clinic of the referral's treatment function, from now until its target date.
pub async fn slot_issues(
    txn: &DatabaseTransaction,
    f: &ReadyFilter,
) -> Result<Vec<ReadyItem>, StoreError> {
    Ok(ReadyItem::find_by_statement(stmt(
        &format!(
            "SELECT {} {READY}
               AND NOT EXISTS (
                 SELECT 1 FROM slot s JOIN clinic c ON c.id = s.clinic_id
                  WHERE c.treatment_function = r.treatment_function AND NOT s.blocked
                    AND s.booked < s.capacity AND s.starts_at > now()
                    AND s.starts_at < (coalesce({TARGET}, current_date) + 1)::timestamp AT TIME ZONE '{}')
             {ORDER}",
            columns(),
            super::ZONE
        ),
        values(f),
    ))
    .all(txn)
    .await?)
}
