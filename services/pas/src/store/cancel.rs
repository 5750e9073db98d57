//! Cancelling the spell's last admission, transfer, consultant change or discharge (HL7 A11,
//! A12, A13): the record goes back exactly as it was before it, and the history keeps the
//! action, marked cancelled. Only the last action can be cancelled; an earlier one is
//! reached by cancelling those after it first, so no state is ever rebuilt out of order.
use super::spells::{free_from, lock_bed, lock_spell, Spell};
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{BedId, SpellId};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use uuid::Uuid;

#[derive(FromQueryResult)]
struct Last {
    id: Uuid,
    kind: String,
    detail: serde_json::Value,
}

/// What a cancellation undid, for the events and the activity it withdraws.
pub struct Undone {
    pub spell: Spell,
    /// `admission`, `transfer`, `consultant` or `discharge`.
    pub kind: String,
    /// The episode that is open again (its activity record is withdrawn).
    pub reopened_episode: Option<Uuid>,
}

fn uuid_at(detail: &serde_json::Value, key: &str) -> Option<Uuid> {
    detail
        .get(key)?
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// Reopens stay `id` (ended when the action ran): its bed must not have been given to
/// anyone since.
async fn reopen_stay(txn: &DatabaseTransaction, id: Uuid) -> Result<(), StoreError> {
    let row = txn
        .query_one(stmt(
            "SELECT bed_id, to_at FROM bed_stay WHERE id = $1",
            vec![id.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let bed = BedId::from(row.try_get::<Uuid>("", "bed_id")?);
    let ended: chrono::DateTime<chrono::Utc> = row.try_get("", "to_at")?;
    lock_bed(txn, bed).await?;
    free_from(txn, bed, ended, Some(id)).await.map_err(|_| {
        conflict(
            errors::BED_OCCUPIED,
            "the patient's earlier bed has since been given to another patient: transfer them instead",
        )
    })?;
    txn.execute(stmt(
        "UPDATE bed_stay SET to_at = NULL WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE bed SET state = 'available' WHERE id = $1",
        vec![bed.as_uuid().into()],
    ))
    .await?;
    Ok(())
}

async fn cancel_stay(txn: &DatabaseTransaction, id: Option<Uuid>) -> Result<(), StoreError> {
    if let Some(id) = id {
        txn.execute(stmt(
            "UPDATE bed_stay SET cancelled_at = now() WHERE id = $1",
            vec![id.into()],
        ))
        .await?;
    }
    Ok(())
}

async fn reopen_episode(txn: &DatabaseTransaction, id: Option<Uuid>) -> Result<(), StoreError> {
    if let Some(id) = id {
        txn.execute(stmt(
            "UPDATE episode SET ended_at = NULL WHERE id = $1",
            vec![id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Cancels the spell's last action, which must be an `expected` one (HL7 says which it
/// cancels; the JSON API may leave it open).
pub async fn cancel_last(
    txn: &DatabaseTransaction,
    id: SpellId,
    expected: Option<&str>,
    by: &str,
    reason: &str,
) -> Result<Undone, StoreError> {
    let s = lock_spell(txn, id).await?;
    let last = Last::find_by_statement(stmt(
        "SELECT id, kind, detail FROM encounter_action WHERE spell_id = $1 AND cancelled_at IS NULL
          ORDER BY seq DESC LIMIT 1",
        vec![s.id.into()],
    ))
    .one(txn)
    .await?
    .ok_or_else(|| {
        conflict(
            errors::NOTHING_TO_CANCEL,
            "the spell has no action left to cancel",
        )
    })?;
    if expected.is_some_and(|k| k != last.kind) {
        return Err(conflict(
            errors::NOTHING_TO_CANCEL,
            format!(
                "the spell's last action is a {}, not a {}",
                last.kind,
                expected.unwrap_or_default()
            ),
        ));
    }
    let d = &last.detail;
    let mut reopened_episode = None;
    match last.kind.as_str() {
        "admission" => {
            cancel_stay(txn, uuid_at(d, "stay_id")).await?;
            txn.execute(stmt(
                "UPDATE episode SET cancelled_at = now() WHERE spell_id = $1 AND cancelled_at IS NULL",
                vec![s.id.into()],
            ))
            .await?;
            txn.execute(stmt(
                "UPDATE spell SET status = 'cancelled' WHERE id = $1",
                vec![s.id.into()],
            ))
            .await?;
            super::waiting::reopen(txn, s.id).await?;
        }
        "transfer" => {
            cancel_stay(txn, uuid_at(d, "stay_id")).await?;
            if let Some(prior) = uuid_at(d, "ended_stay_id") {
                reopen_stay(txn, prior).await?;
            }
            txn.execute(stmt(
                "UPDATE spell SET ward_id = $2 WHERE id = $1",
                vec![
                    s.id.into(),
                    uuid_at(d, "from_ward_id").unwrap_or(s.ward_id).into(),
                ],
            ))
            .await?;
        }
        "consultant" => {
            txn.execute(stmt(
                "UPDATE episode SET cancelled_at = now() WHERE id = $1",
                vec![uuid_at(d, "episode_id").into()],
            ))
            .await?;
            reopened_episode = uuid_at(d, "ended_episode_id");
            reopen_episode(txn, reopened_episode).await?;
        }
        "discharge" => {
            let again = txn
                .query_one(stmt(
                    "SELECT id FROM spell WHERE patient_id = $1 AND status = 'admitted'",
                    vec![s.patient_id.clone().into()],
                ))
                .await?;
            if again.is_some() {
                return Err(conflict(
                    errors::ALREADY_ADMITTED,
                    "the patient has been admitted again since: that spell must be cancelled or discharged first",
                ));
            }
            if let Some(stay) = uuid_at(d, "stay_id") {
                reopen_stay(txn, stay).await?;
            }
            reopened_episode = uuid_at(d, "episode_id");
            reopen_episode(txn, reopened_episode).await?;
            let was_on_leave = d
                .get("on_leave_since")
                .and_then(|v| v.as_str())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            txn.execute(stmt(
                "UPDATE spell SET status = 'admitted', discharged_at = NULL, discharge_method = NULL,
                                  discharge_destination = NULL, on_leave_since = $2
                  WHERE id = $1",
                vec![s.id.into(), was_on_leave.into()],
            ))
            .await?;
        }
        "leave-start" | "leave-end" => {
            // Back to how the leave was before: away since the detail's time, or not away.
            let since = d
                .get("since")
                .and_then(|v| v.as_str())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            let restored = if last.kind == "leave-start" {
                None
            } else {
                since
            };
            txn.execute(stmt(
                "UPDATE spell SET on_leave_since = $2 WHERE id = $1",
                vec![s.id.into(), restored.into()],
            ))
            .await?;
        }
        _ => return Err(conflict(errors::NOTHING_TO_CANCEL, "nothing to cancel")),
    }
    txn.execute(stmt(
        "UPDATE encounter_action SET cancelled_at = now(), cancelled_by = $2, cancel_reason = $3 WHERE id = $1",
        vec![last.id.into(), by.into(), reason.into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE spell SET version = version + 1, updated_at = now() WHERE id = $1",
        vec![s.id.into()],
    ))
    .await?;
    Ok(Undone {
        spell: s,
        kind: last.kind,
        reopened_episode,
    })
}
