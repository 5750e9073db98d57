//! What the ADT feed needs beyond the use cases (ADR 33): wards and beds by the codes the
//! sending PAS uses, the spell a message names (by its visit number, else the patient's
//! open spell), a message's local time as an instant, and the exception list.
use super::{stmt, StoreError, ZONE};
use crate::domain::adt::{Location, When};
use crate::domain::{BedId, DomainError, SpellId, WardId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

/// The ward (and bed) a message's location names.
pub async fn locate(
    txn: &DatabaseTransaction,
    l: &Location,
) -> Result<(WardId, Option<BedId>), StoreError> {
    let ward: Uuid = txn
        .query_one(stmt(
            "SELECT id FROM ward WHERE code = $1",
            vec![l.ward.as_str().into()],
        ))
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "ward",
                "unknown",
                format!("no ward {} in this trust", l.ward.as_str()),
            )
        })?
        .try_get("", "id")?;
    let bed = match &l.bed {
        None => None,
        Some(b) => Some(BedId::from(
            txn.query_one(stmt(
                "SELECT id FROM bed WHERE ward_id = $1 AND code = $2",
                vec![ward.into(), b.as_str().into()],
            ))
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "bed",
                    "unknown",
                    format!("no bed {} on ward {}", b.as_str(), l.ward.as_str()),
                )
            })?
            .try_get::<Uuid>("", "id")?,
        )),
    };
    Ok((WardId::from(ward), bed))
}

/// The spell a message is about: the one with its visit number, else the patient's open
/// spell — or, to cancel a discharge, the patient's last discharged one.
pub async fn spell_for(
    txn: &DatabaseTransaction,
    visit: Option<&str>,
    patient: &str,
    discharged: bool,
) -> Result<SpellId, StoreError> {
    let row = match visit {
        Some(v) => {
            txn.query_one(stmt(
                "SELECT id FROM spell WHERE visit_number = $1 AND status <> 'cancelled'",
                vec![v.into()],
            ))
            .await?
        }
        None => {
            txn.query_one(stmt(
                "SELECT id FROM spell WHERE patient_id = $1 AND status = $2
                  ORDER BY admitted_at DESC LIMIT 1",
                vec![
                    patient.into(),
                    if discharged { "discharged" } else { "admitted" }.into(),
                ],
            ))
            .await?
        }
    };
    let id: Uuid = row.ok_or(StoreError::NotFound)?.try_get("", "id")?;
    Ok(SpellId::from(id))
}

/// The instant a message's time names (a local time in the trust's zone, by its rules).
pub async fn instant(txn: &DatabaseTransaction, w: &When) -> Result<DateTime<Utc>, StoreError> {
    match w {
        When::Instant(t) => Ok(t.with_timezone(&Utc)),
        When::Now => Ok(Utc::now()),
        When::Local(l) => Ok(txn
            .query_one(stmt(
                &format!("SELECT ($1::timestamp AT TIME ZONE '{ZONE}') AS t"),
                vec![(*l).into()],
            ))
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("", "t")?),
    }
}

/// A message that could not be applied.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Exception {
    pub id: Uuid,
    pub sender: String,
    pub control_id: String,
    pub trigger: String,
    pub patient_id: String,
    pub visit: Option<String>,
    /// The reason's stable code (`bed.occupied`, `validation`, `not-found`, ...).
    pub code: String,
    pub detail: String,
    pub received_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, sender, control_id, trigger, patient_id, visit, code, detail, received_at, resolved_at";

pub struct NewException<'a> {
    pub sender: &'a str,
    pub control_id: &'a str,
    pub trigger: &'a str,
    pub patient_id: &'a str,
    pub visit: Option<&'a str>,
    pub code: &'a str,
    pub detail: &'a str,
    pub er7: &'a str,
}

pub async fn record_exception(
    txn: &DatabaseTransaction,
    e: &NewException<'_>,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO adt_exception (id, sender, control_id, trigger, patient_id, visit, code, detail, er7, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (sender, control_id) DO NOTHING",
        vec![
            Uuid::now_v7().into(),
            e.sender.into(),
            e.control_id.into(),
            e.trigger.into(),
            e.patient_id.into(),
            e.visit.map(str::to_string).into(),
            e.code.into(),
            e.detail.into(),
            e.er7.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The open exceptions, oldest first.
pub async fn exceptions(
    txn: &DatabaseTransaction,
    limit: u64,
) -> Result<Vec<Exception>, StoreError> {
    Ok(Exception::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM adt_exception WHERE resolved_at IS NULL ORDER BY received_at, id LIMIT $1"
        ),
        vec![(limit as i64).into()],
    ))
    .all(txn)
    .await?)
}

/// Marks an exception resolved (by the person who put it right through the API).
pub async fn resolve(
    txn: &DatabaseTransaction,
    id: Uuid,
    by: &str,
) -> Result<Exception, StoreError> {
    Exception::find_by_statement(stmt(
        &format!(
            "UPDATE adt_exception SET resolved_at = coalesce(resolved_at, now()), resolved_by = coalesce(resolved_by, $2)
              WHERE id = $1 RETURNING {COLUMNS}"
        ),
        vec![id.into(), by.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}
