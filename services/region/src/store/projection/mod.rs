//! Each trust's projections, in its own schema, written inside the consumer's inbox
//! transaction (so a redelivered event changes nothing twice). Rows name the trust's own
//! patient ids; merges move them as every service's do (`tessera_patients::repoint`).
mod care;
mod documents;

pub use care::*;
pub use documents::*;

use super::stmt;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};

/// The projection tables a merge moves (`reg_patient` is marked instead: the merged record
/// keeps its demographics, as the MPI does).
pub const FOLLOWS: [tessera_patients::repoint::Follows; 6] = [
    follows("reg_referral"),
    follows("reg_pathway"),
    follows("reg_appointment"),
    follows("reg_encounter"),
    follows("reg_document"),
    tessera_patients::repoint::Follows {
        table: "reg_document_content",
        key: "document_id",
        except: None,
    },
];

const fn follows(table: &'static str) -> tessera_patients::repoint::Follows {
    tessera_patients::repoint::Follows {
        table,
        key: "id",
        except: None,
    }
}

/// An event's empty text as no value.
fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

async fn exec(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), DbErr> {
    txn.execute(stmt(sql, values)).await.map(|_| ())
}

/// The trust's `stream` told this service something at `at`.
pub async fn heard(
    txn: &DatabaseTransaction,
    stream: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_feed (stream, last_event_at) VALUES ($1, $2)
         ON CONFLICT (stream) DO UPDATE SET last_event_at = greatest(reg_feed.last_event_at, EXCLUDED.last_event_at)",
        vec![stream.into(), at.into()],
    )
    .await
}

/// A patient as the trust's MPI published them (only a newer version replaces an older).
#[derive(Clone, Default)]
pub struct PatientRow {
    pub patient_id: String,
    pub version: i64,
    pub nhs_number: Option<String>,
    pub nhs_verified: bool,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
    pub gp_practice: Option<String>,
    pub restricted: bool,
}

impl std::fmt::Debug for PatientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRow")
            .field("patient_id", &self.patient_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Keeps `p` unless a newer version is already here; answers whether it was kept.
pub async fn patient(
    txn: &DatabaseTransaction,
    p: &PatientRow,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let kept = txn
        .execute(stmt(
            "INSERT INTO reg_patient (patient_id, version, nhs_number, nhs_verified, family, given,
                                      birth_date, sex, postcode, address, gp_practice, restricted, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (patient_id) DO UPDATE SET
                version = EXCLUDED.version, nhs_number = EXCLUDED.nhs_number,
                nhs_verified = EXCLUDED.nhs_verified, family = EXCLUDED.family,
                given = EXCLUDED.given, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
                postcode = EXCLUDED.postcode, address = EXCLUDED.address,
                gp_practice = EXCLUDED.gp_practice, restricted = EXCLUDED.restricted,
                updated_at = EXCLUDED.updated_at
              WHERE reg_patient.version < EXCLUDED.version",
            vec![
                p.patient_id.clone().into(),
                p.version.into(),
                p.nhs_number.clone().into(),
                p.nhs_verified.into(),
                p.family.clone().into(),
                p.given.clone().into(),
                p.birth_date.into(),
                p.sex.clone().into(),
                p.postcode.clone().into(),
                p.address.clone().into(),
                p.gp_practice.clone().into(),
                p.restricted.into(),
                at.into(),
            ],
        ))
        .await?
        .rows_affected();
    Ok(kept > 0)
}

/// The merged record is retired into the survivor (or back to live, `None`, on an unmerge).
pub async fn merged_into(
    txn: &DatabaseTransaction,
    patient: &str,
    survivor: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_patient SET merged_into = $2, updated_at = $3 WHERE patient_id = $1",
        vec![
            patient.into(),
            survivor.map(str::to_string).into(),
            at.into(),
        ],
    )
    .await
}
