//! A spell's moves and ends: transfers (the old bed freed in the same transaction),
//! changes of consultant (one episode ends where the next begins) and discharges — each under
//! the spell's lock, not before its last action (ADR 32).
use super::orders::{Change, Destination, Discharge};
use super::spells::{
    claim_bed, in_order, lock_open, open_stay, record_action, spell, touch, ward_exists, SpellView,
};
use super::{stmt, StoreError};
use crate::domain::SpellId;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

/// Moves the patient to `to` at `c.at`: the old bed is freed in the same transaction. A
/// transfer to the bed the patient is in already changes nothing (a client's resend):
/// `false`, and no event is due.
pub async fn transfer(
    txn: &DatabaseTransaction,
    id: SpellId,
    to: Destination,
    c: &Change,
) -> Result<(SpellView, bool), StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let (ward, bed) = match to {
        Destination::Bed(bed) => {
            let current = txn
                .query_one(stmt(
                    "SELECT 1 AS one FROM bed_stay WHERE spell_id = $1 AND bed_id = $2
                        AND to_at IS NULL AND cancelled_at IS NULL",
                    vec![s.id.into(), bed.as_uuid().into()],
                ))
                .await?;
            if current.is_some() {
                // A resent transfer that took effect: the patient is there; nothing to do.
                return Ok((spell(txn, id).await?, false));
            }
            (claim_bed(txn, bed, c.at).await?.ward_id, Some(bed))
        }
        Destination::Ward(w) => {
            ward_exists(txn, w).await?;
            (w.as_uuid(), None)
        }
    };
    let ended = end_stay(txn, s.id, c.at).await?;
    let stay = match bed {
        Some(b) => Some(open_stay(txn, b, s.id, c.at).await?),
        None => None,
    };
    txn.execute(stmt(
        "UPDATE spell SET ward_id = $2 WHERE id = $1",
        vec![s.id.into(), ward.into()],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "transfer",
        c.at,
        &c.by,
        json!({ "from_ward_id": s.ward_id, "to_ward_id": ward, "ended_stay_id": ended.map(|e| e.0),
                "stay_id": stay }),
    )
    .await?;
    Ok((spell(txn, id).await?, true))
}

/// A new responsible consultant from `c.at`: the open episode ends and the next begins at
/// the same instant. Returns the spell and the episode that ended (its activity is due).
pub async fn change_consultant(
    txn: &DatabaseTransaction,
    id: SpellId,
    consultant: &str,
    treatment_function: &str,
    c: &Change,
) -> Result<(SpellView, Uuid), StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let ended = end_episode(txn, s.id, c.at).await?;
    let episode = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO episode (id, spell_id, seq, consultant, treatment_function, started_at)
         VALUES ($1, $2, (SELECT max(seq) + 1 FROM episode WHERE spell_id = $2), $3, $4, $5)",
        vec![
            episode.into(),
            s.id.into(),
            consultant.into(),
            treatment_function.into(),
            c.at.into(),
        ],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "consultant",
        c.at,
        &c.by,
        json!({ "ended_episode_id": ended, "episode_id": episode }),
    )
    .await?;
    Ok((spell(txn, id).await?, ended))
}

/// Discharges at `c.at`: the last episode and the spell end, the bed is freed (to cleaning,
/// if the trust says so). Returns the spell and the episode that ended.
pub async fn discharge(
    txn: &DatabaseTransaction,
    id: SpellId,
    d: &Discharge,
    c: &Change,
) -> Result<(SpellView, Uuid), StoreError> {
    let (s, last) = lock_open(txn, id).await?;
    in_order(c.at, last)?;
    let ended = end_episode(txn, s.id, c.at).await?;
    let stay = end_stay(txn, s.id, c.at).await?;
    if let (Some((_, bed)), true) = (stay, d.clean) {
        txn.execute(stmt(
            "UPDATE bed SET state = 'cleaning' WHERE id = $1 AND state = 'available'",
            vec![bed.into()],
        ))
        .await?;
    }
    txn.execute(stmt(
        "UPDATE spell SET status = 'discharged', discharged_at = $2, discharge_method = $3,
                          discharge_destination = $4, on_leave_since = NULL
          WHERE id = $1",
        vec![
            s.id.into(),
            c.at.into(),
            d.method.as_str().into(),
            d.destination.as_str().into(),
        ],
    ))
    .await?;
    touch(txn, s.id).await?;
    record_action(
        txn,
        s.id,
        "discharge",
        c.at,
        &c.by,
        json!({ "episode_id": ended, "stay_id": stay.map(|x| x.0), "bed_id": stay.map(|x| x.1),
                "on_leave_since": s.on_leave_since }),
    )
    .await?;
    Ok((spell(txn, id).await?, ended))
}

/// Ends the spell's open stay at `at`; returns it (and its bed), if there was one.
async fn end_stay(
    txn: &DatabaseTransaction,
    spell: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    let row = txn
        .query_one(stmt(
            "UPDATE bed_stay SET to_at = $2 WHERE spell_id = $1 AND to_at IS NULL AND cancelled_at IS NULL
             RETURNING id, bed_id",
            vec![spell.into(), at.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "id")?, r.try_get("", "bed_id")?)),
        None => None,
    })
}

/// Ends the spell's open episode at `at`; returns its id.
async fn end_episode(
    txn: &DatabaseTransaction,
    spell: Uuid,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    txn.query_one(stmt(
        "UPDATE episode SET ended_at = $2 WHERE spell_id = $1 AND ended_at IS NULL AND cancelled_at IS NULL
         RETURNING id",
        vec![spell.into(), at.into()],
    ))
    .await?
    .ok_or(StoreError::NotFound)?
    .try_get("", "id")
    .map_err(StoreError::from)
}
