//! Wards, their beds and the bed board: each bed's own state, or `occupied` with whoever is
//! in it now (an open stay).
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{BedId, BedState, NewWard, WardId};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Ward {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub site: String,
    pub team: String,
    pub beds: i64,
    pub occupied: i64,
    pub created_at: DateTime<Utc>,
}

/// One bed on the board.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct BoardBed {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub code: String,
    pub bay: Option<String>,
    /// `available`, `occupied`, `closed` or `cleaning`.
    pub state: String,
    pub patient_id: Option<String>,
    pub spell_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
}

/// Each bed with its state: its own, or `occupied` while a stay in it is open.
const BOARD: &str = "SELECT b.id, b.ward_id, b.code, b.bay,
        CASE WHEN s.id IS NOT NULL THEN 'occupied' ELSE b.state END AS state,
        p.patient_id, s.spell_id, s.from_at AS since
   FROM bed b
   LEFT JOIN bed_stay s ON s.bed_id = b.id AND s.to_at IS NULL AND s.cancelled_at IS NULL
   LEFT JOIN spell p ON p.id = s.spell_id";

const WARD_COLUMNS: &str = "w.id, w.code, w.name, w.site, w.team, w.created_at,
    (SELECT count(*) FROM bed b WHERE b.ward_id = w.id) AS beds,
    (SELECT count(*) FROM bed b JOIN bed_stay s ON s.bed_id = b.id
      WHERE b.ward_id = w.id AND s.to_at IS NULL AND s.cancelled_at IS NULL) AS occupied";

pub async fn create_ward(txn: &DatabaseTransaction, w: &NewWard) -> Result<Ward, StoreError> {
    let id = WardId::new().as_uuid();
    let inserted = txn
        .execute(stmt(
            "INSERT INTO ward (id, code, name, site, team, created_at) VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (code) DO NOTHING",
            vec![
                id.into(),
                w.code.as_str().into(),
                w.name.clone().into(),
                w.site.clone().into(),
                w.team.clone().into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(conflict(
            errors::WARD_EXISTS,
            format!("the trust has a ward {} already", w.code.as_str()),
        ));
    }
    for b in &w.beds {
        let added = txn
            .execute(stmt(
                "INSERT INTO bed (id, ward_id, code, bay) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (ward_id, code) DO NOTHING",
                vec![
                    BedId::new().as_uuid().into(),
                    id.into(),
                    b.code.as_str().into(),
                    b.bay.clone().into(),
                ],
            ))
            .await?;
        if added.rows_affected() == 0 {
            return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                "beds",
                "duplicate",
                format!("bed {} is listed twice", b.code.as_str()),
            )));
        }
    }
    ward(txn, WardId::from(id)).await
}

pub async fn ward(txn: &DatabaseTransaction, id: WardId) -> Result<Ward, StoreError> {
    Ward::find_by_statement(stmt(
        &format!("SELECT {WARD_COLUMNS} FROM ward w WHERE w.id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn wards(txn: &DatabaseTransaction) -> Result<Vec<Ward>, StoreError> {
    Ok(Ward::find_by_statement(stmt(
        &format!("SELECT {WARD_COLUMNS} FROM ward w ORDER BY w.code"),
        vec![],
    ))
    .all(txn)
    .await?)
}

/// The ward's beds in code order, each with its state and its patient.
pub async fn board(txn: &DatabaseTransaction, ward: WardId) -> Result<Vec<BoardBed>, StoreError> {
    let beds = BoardBed::find_by_statement(stmt(
        &format!("{BOARD} WHERE b.ward_id = $1 ORDER BY b.code"),
        vec![ward.as_uuid().into()],
    ))
    .all(txn)
    .await?;
    if beds.is_empty() {
        ward_exists(txn, ward).await?;
    }
    Ok(beds)
}

async fn ward_exists(txn: &DatabaseTransaction, ward: WardId) -> Result<(), StoreError> {
    txn.query_one(stmt(
        "SELECT 1 AS one FROM ward WHERE id = $1",
        vec![ward.as_uuid().into()],
    ))
    .await?
    .map(|_| ())
    .ok_or(StoreError::NotFound)
}

/// Sets a bed's own state; an occupied bed cannot be closed or put to cleaning.
pub async fn set_bed_state(
    txn: &DatabaseTransaction,
    id: BedId,
    state: BedState,
) -> Result<BoardBed, StoreError> {
    super::spells::lock_bed(txn, id).await?;
    let occupied = txn
        .query_one(stmt(
            "SELECT 1 AS one FROM bed_stay WHERE bed_id = $1 AND to_at IS NULL AND cancelled_at IS NULL",
            vec![id.as_uuid().into()],
        ))
        .await?
        .is_some();
    if occupied && state != BedState::Available {
        return Err(conflict(
            errors::BED_OCCUPIED,
            "a patient is in the bed: transfer or discharge them first",
        ));
    }
    txn.execute(stmt(
        "UPDATE bed SET state = $2 WHERE id = $1",
        vec![id.as_uuid().into(), state.name().into()],
    ))
    .await?;
    bed(txn, id).await
}

/// One bed with its state and patient.
pub async fn bed(txn: &DatabaseTransaction, id: BedId) -> Result<BoardBed, StoreError> {
    BoardBed::find_by_statement(stmt(
        &format!("{BOARD} WHERE b.id = $1"),
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}
