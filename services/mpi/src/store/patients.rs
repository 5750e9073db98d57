use super::StoreError;
use crate::domain::{Demographics, LocalNumber, Patient, PatientId};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use tessera_access::contact::ContactVerdict;
use tessera_nhs::{NhsNumber, OdsCode};

#[derive(FromQueryResult)]
pub(super) struct Row {
    id: uuid::Uuid,
    version: i64,
    /// As text: parsed once, straight into the domain type.
    demographics: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    merged_into: Option<uuid::Uuid>,
    replaces: String,
}

impl Row {
    pub(super) fn into_patient(self) -> Result<Patient, StoreError> {
        Ok(Patient {
            id: PatientId::from_uuid(self.id),
            version: self.version,
            demographics: serde_json::from_str(&self.demographics)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            merged_into: self.merged_into.map(PatientId::from_uuid),
            replaces: serde_json::from_str(&self.replaces)?,
        })
    }
}

pub(super) const COLUMNS: &str =
    "id, version, demographics::text AS demographics, created_at, updated_at, merged_into, replaces::text AS replaces";

pub(super) use tessera_tenancy::stmt;

pub(super) fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

pub(super) fn search_columns(d: &Demographics) -> (String, Vec<String>, Option<String>) {
    let name = d.primary_name();
    let family = name.map(|n| norm(&n.family)).unwrap_or_default();
    let given = d
        .names
        .iter()
        .flat_map(|n| n.given.iter().map(|g| norm(g)))
        .collect();
    let postcode = d
        .current_address()
        .and_then(|a| a.postcode.as_ref())
        .map(|p| p.as_str().replace(' ', ""));
    (family, given, postcode)
}

pub enum InsertOutcome {
    Created(Patient),
    /// The idempotency key was used before: here is the patient it created.
    AlreadyCreated(Patient),
}

/// Registers a patient. Assigns a local number for `tenant` when the caller gave none.
pub async fn insert(
    txn: &DatabaseTransaction,
    tenant: &OdsCode,
    mut demographics: Demographics,
    idempotency_key: Option<String>,
    recorded_by: &str,
) -> Result<InsertOutcome, StoreError> {
    if let Some(key) = &idempotency_key {
        if let Some(p) = find_by_idempotency_key(txn, key).await? {
            return Ok(InsertOutcome::AlreadyCreated(p));
        }
    }
    if let Some(n) = &demographics.nhs_number {
        if let Some(p) = find_by_nhs_number(txn, n).await? {
            return Err(StoreError::DuplicateNhsNumber(resolve(txn, p).await?.id));
        }
    }
    if !demographics
        .local_numbers
        .iter()
        .any(|l| &l.assigner == tenant)
    {
        let row = txn
            .query_one(stmt("SELECT nextval('local_number_seq') AS n", vec![]))
            .await?;
        let n: i64 = row
            .and_then(|r| r.try_get("", "n").ok())
            .unwrap_or_default();
        demographics.local_numbers.push(LocalNumber {
            assigner: tenant.clone(),
            value: format!("M{n}"),
        });
    }
    let id = PatientId::new();
    // PostgreSQL keeps microseconds: answer with what a later read will return.
    let now = Utc::now().trunc_subsecs(6);
    let (family, given, postcode) = search_columns(&demographics);
    let json = serde_json::to_value(&demographics)?;
    let inserted = txn
        .execute(stmt(
            "INSERT INTO patient (id, version, nhs_number, family_norm, given_norm, birth_date, sex, postcode_norm,
                                  demographics, idempotency_key, created_at, updated_at)
             VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT DO NOTHING",
            vec![
                id.uuid().into(),
                demographics.nhs_number.as_ref().map(|n| n.as_str().to_string()).into(),
                family.into(),
                given.into(),
                demographics.birth_date.into(),
                demographics.administrative_sex.as_str().into(),
                postcode.into(),
                json.clone().into(),
                idempotency_key.clone().into(),
                now.into(),
            ],
        ))
        .await?
        .rows_affected();
    if inserted == 0 {
        // A concurrent registration with the same NHS number or idempotency key won the race.
        if let Some(key) = &idempotency_key {
            if let Some(p) = find_by_idempotency_key(txn, key).await? {
                return Ok(InsertOutcome::AlreadyCreated(p));
            }
        }
        if let Some(n) = &demographics.nhs_number {
            if let Some(p) = find_by_nhs_number(txn, n).await? {
                return Err(StoreError::DuplicateNhsNumber(resolve(txn, p).await?.id));
            }
        }
        return Err(StoreError::RegistrationRace);
    }
    claim_local_numbers(txn, id, &demographics.local_numbers).await?;
    txn.execute(stmt(
        "INSERT INTO patient_history (patient_id, version, demographics, recorded_at, recorded_by) VALUES ($1, 1, $2, $3, $4)",
        vec![id.uuid().into(), json.into(), now.into(), recorded_by.into()],
    ))
    .await?;
    Ok(InsertOutcome::Created(Patient {
        id,
        version: 1,
        demographics,
        created_at: now,
        updated_at: now,
        merged_into: None,
        replaces: Vec::new(),
    }))
}

pub(super) async fn claim_local_numbers(
    txn: &DatabaseTransaction,
    id: PatientId,
    numbers: &[LocalNumber],
) -> Result<(), StoreError> {
    for l in numbers {
        let claimed = txn
            .execute(stmt(
                "INSERT INTO patient_local_number (assigner, value, patient_id) VALUES ($1, $2, $3)
                 ON CONFLICT (assigner, value) DO UPDATE SET patient_id = EXCLUDED.patient_id
                 WHERE patient_local_number.patient_id = EXCLUDED.patient_id",
                vec![
                    l.assigner.as_str().into(),
                    l.value.clone().into(),
                    id.uuid().into(),
                ],
            ))
            .await?
            .rows_affected();
        if claimed == 0 {
            return Err(StoreError::DuplicateLocalNumber(format!(
                "{}/{}",
                l.assigner, l.value
            )));
        }
    }
    Ok(())
}

/// The one patient matching `condition` (SQL over the `patient` table, `$n` placeholders).
async fn one_where(
    txn: &DatabaseTransaction,
    condition: &str,
    values: Vec<Value>,
) -> Result<Option<Patient>, StoreError> {
    Row::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM patient WHERE {condition}"),
        values,
    ))
    .one(txn)
    .await?
    .map(Row::into_patient)
    .transpose()
}

pub async fn get(txn: &DatabaseTransaction, id: PatientId) -> Result<Option<Patient>, StoreError> {
    one_where(txn, "id = $1", vec![id.uuid().into()]).await
}

pub async fn find_by_nhs_number(
    txn: &DatabaseTransaction,
    n: &NhsNumber,
) -> Result<Option<Patient>, StoreError> {
    // The active holder, else a merged-away record that carried it (resolved by the caller).
    one_where(
        txn,
        "nhs_number = $1 ORDER BY merged_into IS NULL DESC, updated_at DESC LIMIT 1",
        vec![n.as_str().into()],
    )
    .await
}

/// Follows `merged_into` from `p` to the active survivor (merges can chain: A into B into C).
pub async fn resolve(txn: &DatabaseTransaction, mut p: Patient) -> Result<Patient, StoreError> {
    for _ in 0..32 {
        let Some(next) = p.merged_into else {
            return Ok(p);
        };
        p = get(txn, next).await?.ok_or(StoreError::NotFound)?;
    }
    Err(StoreError::Corrupt("merge chain longer than 32".into()))
}

async fn find_by_idempotency_key(
    txn: &DatabaseTransaction,
    key: &str,
) -> Result<Option<Patient>, StoreError> {
    one_where(txn, "idempotency_key = $1", vec![key.into()]).await
}

pub async fn find_by_local_number(
    txn: &DatabaseTransaction,
    assigner: &OdsCode,
    value: &str,
) -> Result<Option<Patient>, StoreError> {
    one_where(
        txn,
        "id = (SELECT patient_id FROM patient_local_number WHERE assigner = $1 AND value = $2)",
        vec![assigner.as_str().into(), value.into()],
    )
    .await
}

/// Replaces the current demographics; the old ones stay in `patient_history`.
pub async fn update(
    txn: &DatabaseTransaction,
    id: PatientId,
    expected_version: Option<i64>,
    demographics: Demographics,
    recorded_by: &str,
    verdict: impl Fn(bool) -> ContactVerdict,
) -> Result<Option<(Patient, Vec<String>)>, StoreError> {
    let current = Row::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM patient WHERE id = $1 FOR UPDATE"),
        vec![id.uuid().into()],
    ))
    .one(txn)
    .await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let current = current.into_patient()?;
    if let Some(survivor) = current.merged_into {
        return Err(StoreError::MergedInto(survivor));
    }
    if let Some(v) = expected_version {
        if v != current.version {
            return Err(StoreError::VersionConflict(current.version));
        }
    }
    if let Some(n) = &demographics.nhs_number {
        if let Some(other) = find_by_nhs_number(txn, n).await? {
            let holder = resolve(txn, other).await?;
            if holder.id != id {
                return Err(StoreError::DuplicateNhsNumber(holder.id));
            }
        }
    }
    // A PUT replaces the demographics, but identifiers are never lost by omission (ADR 20):
    // an NHS number or a local number the caller left out stays on the record. An NHS number
    // is corrected by sending the right one, never removed by leaving it out.
    let mut demographics = demographics;
    if demographics.nhs_number.is_none() && current.demographics.nhs_number.is_some() {
        demographics.nhs_number = current.demographics.nhs_number.clone();
        demographics.nhs_number_verification_status =
            current.demographics.nhs_number_verification_status;
    }
    // A caller the contact verdict does not show the group (S-flag, seal, no relationship)
    // can neither change nor erase it, and only a role that may lift the S-flag lifts it
    // (`tessera_access::contact`, ADR 24).
    let v = verdict(current.demographics.restricted);
    if !v.shown {
        demographics.addresses = current.demographics.addresses.clone();
        demographics.telecom = current.demographics.telecom.clone();
        demographics.general_practice = current.demographics.general_practice.clone();
    }
    if current.demographics.restricted && !v.may_lift_s_flag {
        demographics.restricted = true;
    }
    for l in &current.demographics.local_numbers {
        if !demographics.local_numbers.contains(l) {
            demographics.local_numbers.push(l.clone());
        }
    }
    let changed = current.demographics.changed_fields(&demographics);
    if changed.is_empty() {
        return Ok(Some((current, changed)));
    }
    let version = current.version + 1;
    // PostgreSQL keeps microseconds: answer with what a later read will return.
    let now = Utc::now().trunc_subsecs(6);
    let (family, given, postcode) = search_columns(&demographics);
    let json = serde_json::to_value(&demographics)?;
    txn.execute(stmt(
        "UPDATE patient SET version = $2, nhs_number = $3, family_norm = $4, given_norm = $5, birth_date = $6,
                sex = $7, postcode_norm = $8, demographics = $9, updated_at = $10 WHERE id = $1",
        vec![
            id.uuid().into(),
            version.into(),
            demographics.nhs_number.as_ref().map(|n| n.as_str().to_string()).into(),
            family.into(),
            given.into(),
            demographics.birth_date.into(),
            demographics.administrative_sex.as_str().into(),
            postcode.into(),
            json.clone().into(),
            now.into(),
        ],
    ))
    .await?;
    claim_local_numbers(txn, id, &demographics.local_numbers).await?;
    txn.execute(stmt(
        "INSERT INTO patient_history (patient_id, version, demographics, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)",
        vec![id.uuid().into(), version.into(), json.into(), now.into(), recorded_by.into()],
    ))
    .await?;
    Ok(Some((
        Patient {
            id,
            version,
            demographics,
            created_at: current.created_at,
            updated_at: now,
            merged_into: None,
            replaces: current.replaces,
        },
        changed,
    )))
}
