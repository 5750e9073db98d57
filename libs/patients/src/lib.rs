//! A trust's patients as its MPI knows them — ids and merges only, never demographics —
//! projected into the tenant schema of every service that refers to patients, from the MPI's
//! patient events. A service decides locally, inside the transaction that would write the
//! reference, whether the patient exists in the caller's trust (CONVENTIONS 18, ADR 21).
//!
//! The projection follows the MPI within a second or so; a patient registered a moment ago
//! may not have arrived yet. Patient ids are UUIDv7, minted by the MPI when it registers the
//! patient, so an unknown id minted within the grace window gets a retryable answer, and an
//! unknown id older than that a permanent one.
mod handler;
mod id;
mod migration;
pub mod repoint;

pub use handler::{consumer_spec, KnownPatients};
pub use id::PatientId;
pub use migration::CreateKnownPatients;
pub use repoint::CreateMergeFollowing;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::time::Duration;
use uuid::Uuid;

/// How long an unknown id minted recently is treated as "not arrived yet" rather than
/// "no such patient": longer than the event path takes under load, short enough that a
/// wrong id is told so within minutes.
pub const GRACE: Duration = Duration::from_secs(600);

/// Why a reference to a patient is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    /// No such patient in this trust's index (stable code `patient.unknown`).
    #[error("no patient with this id in the trust's index")]
    Unknown,
    /// Possibly registered a moment ago: retry (stable code `patient.not-yet-known`).
    #[error("this patient is not known here yet; retry shortly")]
    NotYetKnown,
    /// Merged into another record (stable code `patient.merged`): refer to the survivor.
    #[error("this patient was merged into {0}; refer to that record")]
    MergedInto(Uuid),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl Refused {
    /// The stable code the HTTP layer answers with (`docs/contracts/api-errors.md`).
    pub fn code(&self) -> &'static str {
        match self {
            Refused::Unknown => "patient.unknown",
            Refused::NotYetKnown => "patient.not-yet-known",
            Refused::MergedInto(_) => "patient.merged",
            Refused::Db(_) => "internal",
        }
    }
}

/// Whether `id` is a patient of the trust whose schema `conn` is scoped to, and not merged
/// away. Run it in the transaction that writes the reference.
pub async fn require_known(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    let row = conn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT merged_into FROM known_patient WHERE id = $1",
            vec![id.into()],
        ))
        .await?;
    match row {
        Some(r) => match r.try_get::<Option<Uuid>>("", "merged_into")? {
            Some(survivor) => Err(Refused::MergedInto(survivor)),
            None => Ok(()),
        },
        None if minted_within(id, now, GRACE) => Err(Refused::NotYetKnown),
        None => Err(Refused::Unknown),
    }
}

/// Whether `id` is a UUIDv7 whose timestamp lies within `grace` before `now` (or a little
/// after it: clocks differ between hosts).
fn minted_within(id: Uuid, now: DateTime<Utc>, grace: Duration) -> bool {
    let Some(ts) = id.get_timestamp() else {
        return false;
    };
    let (secs, nanos) = ts.to_unix();
    let Some(minted) = DateTime::<Utc>::from_timestamp(secs as i64, nanos) else {
        return false;
    };
    let age = now.signed_duration_since(minted);
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::zero());
    age <= grace && age >= -chrono::Duration::seconds(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_v7_id_is_within_the_grace_and_an_old_or_v4_id_is_not() {
        let now = Utc::now();
        assert!(minted_within(Uuid::now_v7(), now, GRACE));
        assert!(!minted_within(Uuid::new_v4(), now, GRACE));
        let an_hour_ago = now - chrono::Duration::hours(1);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, an_hour_ago.timestamp() as u64, 0);
        assert!(!minted_within(Uuid::new_v7(ts), now, GRACE));
        let far_future = now + chrono::Duration::hours(1);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, far_future.timestamp() as u64, 0);
        assert!(!minted_within(Uuid::new_v7(ts), now, GRACE));
    }

    #[test]
    fn each_refusal_has_its_stable_code() {
        assert_eq!(Refused::Unknown.code(), "patient.unknown");
        assert_eq!(Refused::NotYetKnown.code(), "patient.not-yet-known");
        assert_eq!(Refused::MergedInto(Uuid::nil()).code(), "patient.merged");
    }
}
