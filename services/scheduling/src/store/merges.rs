//! Appointments, rebooking entries and the referrals seen follow the patient through the
//! MPI's merges (docs/contracts/merge.md): a merge re-points the merged record's rows to the
//! survivor and marks each with the merge; an unmerge puts back exactly the marked rows.
//! Nothing is combined: two booked appointments of the survivor at overlapping times are left
//! for a person, as a merge review on the worklist.
use super::{stmt, StoreError};
use sea_orm::{DatabaseTransaction, DbErr, FromQueryResult};
use tessera_patients::repoint::{self, Follows};
use uuid::Uuid;

/// The tables that name patients, and each one's row id column.
pub const MERGE_TABLES: [Follows; 3] = [
    Follows {
        table: "appointment",
        key: "id",
        except: None,
    },
    Follows {
        table: "rebook",
        key: "appointment_id",
        except: None,
    },
    Follows {
        table: "referral_seen",
        key: "referral_id",
        except: None,
    },
];

#[derive(FromQueryResult)]
struct Id {
    id: Uuid,
}

/// Two booked appointments of the survivor at once after merge `merge_id`: one of them is
/// wrong, a person decides (a merge review).
pub async fn review_clashes(
    txn: &DatabaseTransaction,
    merge_id: &str,
    survivor: &str,
) -> Result<(), DbErr> {
    let clashes = Id::find_by_statement(stmt(
        "SELECT a.id FROM appointment a JOIN appointment b
             ON a.patient_id = b.patient_id AND a.id <> b.id
          WHERE a.patient_id = $1 AND a.status = 'booked' AND b.status = 'booked'
            AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
          ORDER BY a.id",
        vec![survivor.into()],
    ))
    .all(txn)
    .await?;
    if !clashes.is_empty() {
        let ids: Vec<String> = clashes.iter().map(|c| c.id.to_string()).collect();
        let detail = serde_json::json!({ "appointments": ids });
        repoint::raise_review(txn, merge_id, survivor, "overlapping-appointments", detail).await?;
    }
    Ok(())
}

pub use repoint::MergeReview;

/// Open merge reviews, oldest first.
pub async fn merge_reviews(
    txn: &DatabaseTransaction,
    limit: u64,
) -> Result<Vec<MergeReview>, StoreError> {
    Ok(repoint::reviews(txn, limit).await?)
}
