//! Leave of absence (HL7 A21, A22): the patient goes home for a while and comes back. Leave
//! of 28 days or less does not break the spell (NHS Data Dictionary), so the spell, its
//! episode and its bed stay as they are; the spell says since when the patient is away.
//! A leave that turns out longer ends in a discharge, dated when the leave began.
use super::orders::Change;
use super::spells::{in_order, lock_open, record_action, spell, touch, SpellView};
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::SpellId;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;

/// Starts (`going` true) or ends the spell's leave at `c.at`.
pub async fn leave(
    txn: &DatabaseTransaction,
    id: SpellId,
    going: bool,
    c: &Change,
) -> Result<SpellView, StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    match (going, s.on_leave_since) {
        (true, Some(since)) => {
            return Err(conflict(
                errors::LEAVE_STATE,
                format!("the patient is on leave already, since {since}"),
            ))
        }
        (false, None) => return Err(conflict(errors::LEAVE_STATE, "the patient is not on leave")),
        _ => {}
    }
    txn.execute(stmt(
        "UPDATE spell SET on_leave_since = $2 WHERE id = $1",
        vec![s.id.into(), going.then_some(c.at).into()],
    ))
    .await?;
    touch(txn, s.id).await?;
    let kind = if going { "leave-start" } else { "leave-end" };
    record_action(
        txn,
        s.id,
        kind,
        c.at,
        &c.by,
        json!({ "since": s.on_leave_since }),
    )
    .await?;
    spell(txn, id).await
}
