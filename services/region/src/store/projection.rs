//! Each trust's projections, in its own schema, written inside the consumer's inbox
//! transaction (so a redelivered event changes nothing twice). Rows name the trust's own
//! patient ids; merges move them as every service's do (`tessera_patients::repoint`).
use super::stmt;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use uuid::Uuid;

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

/// A referral as received.
pub struct ReferralRow {
    pub id: Uuid,
    pub patient_id: String,
    pub ubrn: String,
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub team: String,
    pub state: String,
    pub received_on: Option<NaiveDate>,
    pub pathway_id: Option<Uuid>,
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

pub async fn referral(
    txn: &DatabaseTransaction,
    r: &ReferralRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_referral (id, patient_id, ubrn, priority, specialty, treatment_function,
                                   team, state, received_on, pathway_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET ubrn = EXCLUDED.ubrn, priority = EXCLUDED.priority,
             specialty = EXCLUDED.specialty, treatment_function = EXCLUDED.treatment_function,
             team = EXCLUDED.team, received_on = EXCLUDED.received_on,
             pathway_id = EXCLUDED.pathway_id, updated_at = EXCLUDED.updated_at",
        vec![
            r.id.into(),
            r.patient_id.clone().into(),
            opt(&r.ubrn).into(),
            opt(&r.priority).into(),
            opt(&r.specialty).into(),
            opt(&r.treatment_function).into(),
            opt(&r.team).into(),
            r.state.clone().into(),
            r.received_on.into(),
            r.pathway_id.into(),
            at.into(),
        ],
    )
    .await
}

/// A referral moved to `state` (its lifecycle's transitions arrive in order: one key).
pub async fn referral_state(
    txn: &DatabaseTransaction,
    id: Uuid,
    state: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_referral SET state = $2, updated_at = $3 WHERE id = $1",
        vec![id.into(), state.into(), at.into()],
    )
    .await
}

/// An RTT pathway's clock as the referrals service last published it.
pub struct PathwayRow {
    pub id: Uuid,
    pub patient_id: String,
    pub treatment_function: String,
    pub clock: String,
    pub clock_start: Option<NaiveDate>,
    pub clock_stop: Option<NaiveDate>,
}

pub async fn pathway(
    txn: &DatabaseTransaction,
    p: &PathwayRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_pathway (id, patient_id, treatment_function, clock, clock_start, clock_stop, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id,
             treatment_function = EXCLUDED.treatment_function, clock = EXCLUDED.clock,
             clock_start = EXCLUDED.clock_start, clock_stop = EXCLUDED.clock_stop,
             updated_at = EXCLUDED.updated_at",
        vec![
            p.id.into(),
            p.patient_id.clone().into(),
            opt(&p.treatment_function).into(),
            p.clock.clone().into(),
            p.clock_start.into(),
            p.clock_stop.into(),
            at.into(),
        ],
    )
    .await
}

pub struct AppointmentRow {
    pub id: Uuid,
    pub patient_id: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub treatment_function: String,
    pub team: String,
    pub clinician: String,
    pub referral_id: String,
}

pub async fn appointment_booked(
    txn: &DatabaseTransaction,
    a: &AppointmentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_appointment (id, patient_id, starts_at, treatment_function, team, clinician,
                                      referral_id, status, updated_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8, $9)
         ON CONFLICT (id) DO NOTHING",
        vec![
            a.id.into(),
            a.patient_id.clone().into(),
            a.starts_at.into(),
            opt(&a.treatment_function).into(),
            opt(&a.team).into(),
            opt(&a.clinician).into(),
            opt(&a.referral_id).into(),
            at.into(),
            a.ends_at.into(),
        ],
    )
    .await
}

/// Attended, cancelled, not attended...: the scheduling service's outcome word.
pub async fn appointment_closed(
    txn: &DatabaseTransaction,
    id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_appointment SET status = $2, updated_at = $3 WHERE id = $1",
        vec![id.into(), status.into(), at.into()],
    )
    .await
}

pub struct AdmissionRow {
    pub id: Uuid,
    pub patient_id: String,
    pub admitted_at: Option<DateTime<Utc>>,
    pub ward_team: String,
    pub consultant: String,
    pub purpose: String,
}

pub async fn admitted(
    txn: &DatabaseTransaction,
    a: &AdmissionRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_encounter (id, patient_id, admitted_at, ward_team, consultant, purpose, status, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'in-progress', $7)
         ON CONFLICT (id) DO UPDATE SET admitted_at = EXCLUDED.admitted_at,
             ward_team = EXCLUDED.ward_team, consultant = EXCLUDED.consultant,
             purpose = EXCLUDED.purpose, status = 'in-progress', updated_at = EXCLUDED.updated_at",
        vec![
            a.id.into(),
            a.patient_id.clone().into(),
            a.admitted_at.into(),
            opt(&a.ward_team).into(),
            opt(&a.consultant).into(),
            opt(&a.purpose).into(),
            at.into(),
        ],
    )
    .await
}

pub async fn transferred(
    txn: &DatabaseTransaction,
    id: Uuid,
    team: &str,
    ward: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_encounter SET ward_team = $2, ward = $3, updated_at = $4 WHERE id = $1",
        vec![id.into(), opt(team).into(), opt(ward).into(), at.into()],
    )
    .await
}

pub async fn discharged(
    txn: &DatabaseTransaction,
    id: Uuid,
    when: Option<DateTime<Utc>>,
    method: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_encounter SET status = 'finished', discharged_at = $2, discharge_method = $3,
                updated_at = $4 WHERE id = $1",
        vec![id.into(), when.into(), opt(method).into(), at.into()],
    )
    .await
}

/// An admission cancelled (never happened) or a discharge cancelled (back in).
pub async fn cancelled(
    txn: &DatabaseTransaction,
    id: Uuid,
    what: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = match what {
        "admission" => {
            "UPDATE reg_encounter SET status = 'cancelled', updated_at = $2 WHERE id = $1"
        }
        "discharge" => {
            "UPDATE reg_encounter SET status = 'in-progress', discharged_at = NULL,
                    discharge_method = NULL, updated_at = $2 WHERE id = $1"
        }
        _ => return Ok(()),
    };
    exec(txn, sql, vec![id.into(), at.into()]).await
}

pub struct DocumentRow {
    pub id: Uuid,
    pub patient_id: String,
    pub type_code: String,
    pub title: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

pub async fn document_created(
    txn: &DatabaseTransaction,
    d: &DocumentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_document (id, patient_id, type_code, title, author, status, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7)
         ON CONFLICT (id) DO NOTHING",
        vec![
            d.id.into(),
            d.patient_id.clone().into(),
            d.type_code.clone().into(),
            d.title.clone().into(),
            d.author.clone().into(),
            d.created_at.into(),
            at.into(),
        ],
    )
    .await
}

/// A later version: its status and title (only a newer version moves the row).
pub async fn document_version(
    txn: &DatabaseTransaction,
    id: Uuid,
    version: i32,
    status: &str,
    title: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_document SET version = $2, status = $3,
                title = CASE WHEN $4 = '' THEN title ELSE $4 END, updated_at = $5
          WHERE id = $1 AND version < $2",
        vec![
            id.into(),
            version.into(),
            status.into(),
            title.into(),
            at.into(),
        ],
    )
    .await
}

pub async fn document_signed(
    txn: &DatabaseTransaction,
    id: Uuid,
    signed_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "UPDATE reg_document SET signed_at = coalesce(signed_at, $2), updated_at = $3 WHERE id = $1",
        vec![id.into(), signed_at.into(), at.into()],
    )
    .await
}

/// A document's newest signed content (a newer version replaces an older one), or, withdrawn
/// (entered in error), none.
pub struct ContentRow {
    pub document_id: Uuid,
    pub patient_id: String,
    pub version: i32,
    pub content_type: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

pub async fn content(
    txn: &DatabaseTransaction,
    c: &ContentRow,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO reg_document_content (document_id, patient_id, version, content_type, content, sha256, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (document_id) DO UPDATE SET patient_id = EXCLUDED.patient_id,
             version = EXCLUDED.version, content_type = EXCLUDED.content_type,
             content = EXCLUDED.content, sha256 = EXCLUDED.sha256, updated_at = EXCLUDED.updated_at
          WHERE reg_document_content.version < EXCLUDED.version",
        vec![
            c.document_id.into(),
            c.patient_id.clone().into(),
            c.version.into(),
            c.content_type.clone().into(),
            c.content.clone().into(),
            c.sha256.clone().into(),
            at.into(),
        ],
    )
    .await
}

pub async fn content_withdrawn(txn: &DatabaseTransaction, document: Uuid) -> Result<(), DbErr> {
    exec(
        txn,
        "DELETE FROM reg_document_content WHERE document_id = $1",
        vec![document.into()],
    )
    .await
}

/// What a content request answers: the document's trust's copy, if it has one for `patients`.
#[derive(sea_orm::FromQueryResult)]
pub struct Shared {
    pub patient_id: String,
    pub version: i32,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The shared content of `document`, if it belongs to one of `patients` (in the trust whose
/// schema the transaction is scoped to).
pub async fn shared<C: ConnectionTrait>(
    db: &C,
    document: Uuid,
    patients: &[String],
) -> Result<Option<Shared>, DbErr> {
    use sea_orm::FromQueryResult;
    Shared::find_by_statement(stmt(
        "SELECT patient_id, version, content_type, content FROM reg_document_content
          WHERE document_id = $1 AND patient_id = ANY($2)",
        vec![document.into(), patients.to_vec().into()],
    ))
    .one(db)
    .await
}
