//! Clinics, their session templates, and the trust's bank holidays.
use super::{stmt, StoreError};
use crate::api::errors;
use crate::domain::{ClinicId, NewClinic, NewTemplate, TemplateId};
use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Clinic {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub specialty: String,
    pub treatment_function: String,
    pub site: String,
    pub room: Option<String>,
    pub clinician: Option<String>,
    pub team: Option<String>,
    pub services: Vec<String>,
    pub ers_bookable: bool,
}

const CLINIC: &str =
    "id, code, name, specialty, treatment_function, site, room, clinician, team, services, ers_bookable";

pub async fn create_clinic(txn: &DatabaseTransaction, c: &NewClinic) -> Result<Clinic, StoreError> {
    let services: Vec<String> = c.services.iter().map(|s| s.as_str().to_string()).collect();
    let row = Clinic::find_by_statement(stmt(
        &format!(
            "INSERT INTO clinic ({CLINIC}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (code) DO NOTHING RETURNING {CLINIC}"
        ),
        vec![
            ClinicId::new().as_uuid().into(),
            c.code.as_str().into(),
            c.name.clone().into(),
            c.specialty.clone().into(),
            c.treatment_function.clone().into(),
            c.site.clone().into(),
            c.room.clone().into(),
            c.clinician.clone().into(),
            c.team.clone().into(),
            services.into(),
            c.ers_bookable.into(),
            Utc::now().into(),
        ],
    ))
    .one(txn)
    .await?;
    row.ok_or_else(|| {
        StoreError::Conflict(
            errors::CLINIC_EXISTS,
            format!("the trust has a clinic {} already", c.code.as_str()),
        )
    })
}

pub async fn clinics(txn: &DatabaseTransaction) -> Result<Vec<Clinic>, StoreError> {
    Ok(Clinic::find_by_statement(stmt(
        &format!("SELECT {CLINIC} FROM clinic ORDER BY code"),
        vec![],
    ))
    .all(txn)
    .await?)
}

#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Template {
    pub id: Uuid,
    pub clinic_id: Uuid,
    #[schema(value_type = Object)]
    pub pattern: serde_json::Value,
    pub starts: String,
    pub ends: String,
    pub slot_minutes: i32,
    pub capacity: i32,
    pub overbook: i32,
    pub slot_type: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

pub(super) const TEMPLATE: &str = "id, clinic_id, pattern, to_char(starts, 'HH24:MI') AS starts, \
     to_char(ends, 'HH24:MI') AS ends, slot_minutes, capacity, overbook, slot_type, valid_from, valid_to";

pub async fn create_template(
    txn: &DatabaseTransaction,
    clinic: ClinicId,
    t: &NewTemplate,
) -> Result<Template, StoreError> {
    let pattern = serde_json::to_value(&t.pattern)
        .map_err(|e| sea_orm::DbErr::Custom(format!("pattern: {e}")))?;
    let row = Template::find_by_statement(stmt(
        &format!(
            "INSERT INTO session_template (id, clinic_id, pattern, starts, ends, slot_minutes, capacity, overbook,
                                           slot_type, valid_from, valid_to, created_at)
             SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM clinic WHERE id = $2
             RETURNING {TEMPLATE}"
        ),
        vec![
            TemplateId::new().as_uuid().into(),
            clinic.as_uuid().into(),
            pattern.into(),
            t.starts.into(),
            t.ends.into(),
            i32::from(t.slot_minutes).into(),
            i32::from(t.capacity).into(),
            i32::from(t.overbook).into(),
            t.slot_type.as_str().into(),
            t.valid_from.into(),
            t.valid_to.into(),
            Utc::now().into(),
        ],
    ))
    .one(txn)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// Records a bank holiday (again: renames it). Sessions already generated on it stay: cancel
/// them as a session, so their patients reach the rebooking worklist.
pub async fn set_bank_holiday(
    txn: &DatabaseTransaction,
    on: NaiveDate,
    name: &str,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO bank_holiday (on_date, name) VALUES ($1, $2)
         ON CONFLICT (on_date) DO UPDATE SET name = excluded.name",
        vec![on.into(), name.into()],
    ))
    .await?;
    Ok(())
}
