//! Merge and unmerge. A merge freezes the merged-away record as it was, points it at the
//! survivor, and gives the survivor the merged record's identifiers; the `patient_merge` row
//! says exactly what was given, so an unmerge takes back exactly that and nothing the
//! survivor gained since.
use super::patients::{self, claim_local_numbers, search_columns, stmt, Row, COLUMNS};
use super::StoreError;
use crate::domain::{Demographics, LocalNumber, Patient, PatientId, Replaced};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_nhs::VerificationStatus;
use uuid::Uuid;

/// A merge as recorded, for the API and the events.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Merge {
    pub id: Uuid,
    pub survivor_id: PatientId,
    pub merged_id: PatientId,
    pub moved_local_numbers: Vec<LocalNumber>,
    pub nhs_number_taken: bool,
    pub merged_at: DateTime<Utc>,
    pub merged_by: String,
    pub review_id: Option<Uuid>,
    pub unmerged_at: Option<DateTime<Utc>>,
    pub unmerged_by: Option<String>,
}

impl std::fmt::Debug for Merge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Merge({}, {} into {})",
            self.id, self.merged_id, self.survivor_id
        )
    }
}

#[derive(FromQueryResult)]
struct MergeRow {
    id: Uuid,
    survivor_id: Uuid,
    merged_id: Uuid,
    moved_local_numbers: serde_json::Value,
    nhs_number_taken: bool,
    survivor_status_before: Option<String>,
    merged_at: DateTime<Utc>,
    merged_by: String,
    review_id: Option<Uuid>,
    unmerged_at: Option<DateTime<Utc>>,
    unmerged_by: Option<String>,
}

impl MergeRow {
    fn into_merge(self) -> Result<(Merge, Option<String>), StoreError> {
        Ok((
            Merge {
                id: self.id,
                survivor_id: PatientId::from_uuid(self.survivor_id),
                merged_id: PatientId::from_uuid(self.merged_id),
                moved_local_numbers: serde_json::from_value(self.moved_local_numbers)?,
                nhs_number_taken: self.nhs_number_taken,
                merged_at: self.merged_at,
                merged_by: self.merged_by,
                review_id: self.review_id,
                unmerged_at: self.unmerged_at,
                unmerged_by: self.unmerged_by,
            },
            self.survivor_status_before,
        ))
    }
}

const MERGE_COLUMNS: &str = "id, survivor_id, merged_id, moved_local_numbers, nhs_number_taken, survivor_status_before, merged_at, merged_by, review_id, unmerged_at, unmerged_by";

/// Both records, locked, in id order (two merges of the same pair cannot deadlock).
async fn lock_pair(
    txn: &DatabaseTransaction,
    a: PatientId,
    b: PatientId,
) -> Result<(Patient, Patient), StoreError> {
    let rows = Row::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM patient WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
        vec![vec![a.uuid(), b.uuid()].into()],
    ))
    .all(txn)
    .await?;
    let mut found: Vec<Patient> = rows
        .into_iter()
        .map(Row::into_patient)
        .collect::<Result<_, _>>()?;
    let pa = found
        .iter()
        .position(|p| p.id == a)
        .ok_or(StoreError::NotFound)?;
    let first = found.swap_remove(pa);
    let second = found.pop().ok_or(StoreError::NotFound)?;
    Ok((first, second))
}

/// Writes a new version of `p` with `demographics` and `replaces`; returns the new record.
async fn rewrite(
    txn: &DatabaseTransaction,
    p: Patient,
    demographics: Demographics,
    replaces: Vec<Replaced>,
    now: DateTime<Utc>,
    recorded_by: &str,
) -> Result<Patient, StoreError> {
    let version = p.version + 1;
    let (family, given, postcode) = search_columns(&demographics);
    let json = serde_json::to_value(&demographics)?;
    txn.execute(stmt(
        "UPDATE patient SET version = $2, nhs_number = $3, family_norm = $4, given_norm = $5, birth_date = $6,
                sex = $7, postcode_norm = $8, demographics = $9, updated_at = $10, replaces = $11 WHERE id = $1",
        vec![
            p.id.uuid().into(),
            version.into(),
            demographics.nhs_number.as_ref().map(|n| n.as_str().to_string()).into(),
            family.into(),
            given.into(),
            demographics.birth_date.into(),
            demographics.administrative_sex.as_str().into(),
            postcode.into(),
            json.clone().into(),
            now.into(),
            serde_json::to_value(&replaces)?.into(),
        ],
    ))
    .await?;
    txn.execute(stmt(
        "INSERT INTO patient_history (patient_id, version, demographics, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)",
        vec![p.id.uuid().into(), version.into(), json.into(), now.into(), recorded_by.into()],
    ))
    .await?;
    Ok(Patient {
        version,
        demographics,
        updated_at: now,
        replaces,
        ..p
    })
}

fn refuse(code: tessera_edge::codes::ErrorCode, message: impl Into<String>) -> StoreError {
    StoreError::Merge(code, message.into())
}

/// What a merge or an unmerge did to the survivor, for its events.
pub struct SurvivorChange {
    pub survivor: Patient,
    /// Top-level fields of the survivor's demographics that changed (empty: none).
    pub changed: Vec<String>,
}

/// Merges `merged` into `survivor`. Returns the merge, the survivor as it now is (and what
/// changed on it), and the merged record's NHS number.
pub async fn merge(
    txn: &DatabaseTransaction,
    survivor_id: PatientId,
    merged_id: PatientId,
    review_id: Option<Uuid>,
    by: &str,
) -> Result<(Merge, SurvivorChange, Option<tessera_nhs::NhsNumber>), StoreError> {
    if survivor_id == merged_id {
        return Err(refuse(
            crate::api::errors::MERGE_SAME_PATIENT,
            "a patient cannot be merged into itself",
        ));
    }
    let (survivor, merged) = lock_pair(txn, survivor_id, merged_id).await?;
    for p in [&survivor, &merged] {
        if let Some(into) = p.merged_into {
            return Err(refuse(
                crate::api::errors::MERGE_ALREADY_MERGED,
                format!("patient {} was already merged into {into}", p.id),
            ));
        }
    }
    let now = Utc::now().trunc_subsecs(6);
    let mut demographics = survivor.demographics.clone();
    let moved: Vec<LocalNumber> = merged
        .demographics
        .local_numbers
        .iter()
        .filter(|l| !demographics.local_numbers.contains(l))
        .cloned()
        .collect();
    demographics.local_numbers.extend(moved.iter().cloned());
    let status_before = demographics
        .nhs_number_verification_status
        .map(|s| s.code().to_string());
    let nhs_taken = demographics.nhs_number.is_none() && merged.demographics.nhs_number.is_some();
    if nhs_taken {
        demographics.nhs_number = merged.demographics.nhs_number.clone();
        demographics.nhs_number_verification_status =
            merged.demographics.nhs_number_verification_status;
    }
    let mut replaces = survivor.replaces.clone();
    replaces.push(Replaced {
        id: merged.id,
        nhs_number: merged.demographics.nhs_number.clone(),
    });
    // First take the merged record out of the active set (its NHS number with it), then
    // give the survivor what it carried.
    txn.execute(stmt(
        "UPDATE patient SET merged_into = $2 WHERE id = $1",
        vec![merged.id.uuid().into(), survivor.id.uuid().into()],
    ))
    .await?;
    txn.execute(stmt(
        "UPDATE patient_local_number SET patient_id = $2 WHERE patient_id = $1",
        vec![merged.id.uuid().into(), survivor.id.uuid().into()],
    ))
    .await?;
    let before = survivor.demographics.clone();
    let survivor = rewrite(txn, survivor, demographics, replaces, now, by).await?;
    let changed = before.changed_fields(&survivor.demographics);
    claim_local_numbers(txn, survivor.id, &survivor.demographics.local_numbers).await?;
    let m = Merge {
        id: Uuid::now_v7(),
        survivor_id,
        merged_id,
        moved_local_numbers: moved,
        nhs_number_taken: nhs_taken,
        merged_at: now,
        merged_by: by.to_string(),
        review_id,
        unmerged_at: None,
        unmerged_by: None,
    };
    txn.execute(stmt(
        "INSERT INTO patient_merge (id, survivor_id, merged_id, moved_local_numbers, nhs_number_taken,
                                    survivor_status_before, merged_at, merged_by, review_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            m.id.into(),
            survivor_id.uuid().into(),
            merged_id.uuid().into(),
            serde_json::to_value(&m.moved_local_numbers)?.into(),
            nhs_taken.into(),
            status_before.into(),
            now.into(),
            by.into(),
            review_id.into(),
        ],
    ))
    .await?;
    Ok((
        m,
        SurvivorChange { survivor, changed },
        merged.demographics.nhs_number,
    ))
}

pub async fn get(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<Merge>, StoreError> {
    MergeRow::find_by_statement(stmt(
        &format!("SELECT {MERGE_COLUMNS} FROM patient_merge WHERE id = $1"),
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .map(|r| r.into_merge().map(|(m, _)| m))
    .transpose()
}

/// Merges that involve `patient`, newest first.
pub async fn for_patient(
    txn: &DatabaseTransaction,
    patient: PatientId,
) -> Result<Vec<Merge>, StoreError> {
    MergeRow::find_by_statement(stmt(
        &format!("SELECT {MERGE_COLUMNS} FROM patient_merge WHERE survivor_id = $1 OR merged_id = $1 ORDER BY merged_at DESC"),
        vec![patient.uuid().into()],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(|r| r.into_merge().map(|(m, _)| m))
    .collect()
}

/// Undoes merge `id`: the merged record comes back exactly as it was; the survivor loses
/// what the merge gave it and keeps everything since. Returns the merge and both records.
pub async fn unmerge(
    txn: &DatabaseTransaction,
    id: Uuid,
    by: &str,
) -> Result<(Merge, SurvivorChange, Patient), StoreError> {
    let row = MergeRow::find_by_statement(stmt(
        &format!("SELECT {MERGE_COLUMNS} FROM patient_merge WHERE id = $1 FOR UPDATE"),
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let (mut m, status_before) = row.into_merge()?;
    if m.unmerged_at.is_some() {
        return Err(refuse(
            crate::api::errors::MERGE_ALREADY_UNMERGED,
            "this merge was already undone",
        ));
    }
    let (survivor, merged) = lock_pair(txn, m.survivor_id, m.merged_id).await?;
    if let Some(into) = survivor.merged_into {
        return Err(refuse(
            crate::api::errors::MERGE_SURVIVOR_MERGED,
            format!("the survivor was itself merged into {into} since; undo that merge first"),
        ));
    }
    let now = Utc::now().trunc_subsecs(6);
    let mut demographics = survivor.demographics.clone();
    demographics
        .local_numbers
        .retain(|l| !m.moved_local_numbers.contains(l));
    if m.nhs_number_taken && demographics.nhs_number == merged.demographics.nhs_number {
        demographics.nhs_number = None;
        demographics.nhs_number_verification_status = status_before
            .as_deref()
            .and_then(|c| VerificationStatus::parse(c).ok());
    }
    let replaces: Vec<Replaced> = survivor
        .replaces
        .iter()
        .filter(|r| r.id != merged.id)
        .cloned()
        .collect();
    let before = survivor.demographics.clone();
    let survivor = rewrite(txn, survivor, demographics, replaces, now, by).await?;
    let changed = before.changed_fields(&survivor.demographics);
    // The merged record's NHS number must be free again among active records.
    if let Some(n) = &merged.demographics.nhs_number {
        let holder = patients::find_by_nhs_number(txn, n).await?;
        if let Some(h) = holder.filter(|h| h.is_active() && h.id != merged.id) {
            return Err(StoreError::DuplicateNhsNumber(h.id));
        }
    }
    txn.execute(stmt(
        "UPDATE patient SET merged_into = NULL WHERE id = $1",
        vec![merged.id.uuid().into()],
    ))
    .await?;
    for l in &m.moved_local_numbers {
        txn.execute(stmt(
            "UPDATE patient_local_number SET patient_id = $3 WHERE assigner = $1 AND value = $2",
            vec![
                l.assigner.as_str().into(),
                l.value.clone().into(),
                merged.id.uuid().into(),
            ],
        ))
        .await?;
    }
    txn.execute(stmt(
        "UPDATE patient_merge SET unmerged_at = $2, unmerged_by = $3 WHERE id = $1",
        vec![id.into(), now.into(), by.into()],
    ))
    .await?;
    m.unmerged_at = Some(now);
    m.unmerged_by = Some(by.to_string());
    let merged = Patient {
        merged_into: None,
        ..merged
    };
    Ok((m, SurvivorChange { survivor, changed }, merged))
}
