use crate::domain::{Demographics, LocalNumber, Patient, PatientId};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;
use tessera_access::contact::ContactVerdict;
use tessera_nhs::{NhsNumber, OdsCode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Only the category and position: serde's own message can quote the stored value,
    /// which is patient data, and this error is logged.
    #[error("stored demographics are unreadable: {0}")]
    Corrupt(String),
    #[error("the NHS number is already registered to patient {0}")]
    DuplicateNhsNumber(PatientId),
    #[error("local number {0} is already in use")]
    DuplicateLocalNumber(String),
    #[error("the patient was changed by someone else (now version {0})")]
    VersionConflict(i64),
    #[error("a concurrent registration conflicted; retry")]
    RegistrationRace,
    #[error("no such patient")]
    NotFound,
    #[error("the patient was merged into {0}")]
    MergedInto(PatientId),
    #[error("{1}")]
    Merge(&'static str, String),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    }
}

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

fn norm(s: &str) -> String {
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

/// Demographic search. FHIR string semantics: case-insensitive, starts-with.
#[derive(Debug, Default, Clone)]
pub struct SearchQuery {
    pub family: Option<String>,
    pub given: Option<String>,
    /// Born on or after (inclusive).
    pub born_from: Option<NaiveDate>,
    /// Born on or before (inclusive).
    pub born_to: Option<NaiveDate>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub limit: u64,
    /// Matches skipped before this page.
    pub offset: u64,
}

impl SearchQuery {
    /// Born on `d` exactly.
    pub fn born_on(mut self, d: Option<NaiveDate>) -> Self {
        self.born_from = d;
        self.born_to = d;
        self
    }
}

/// One page of the matches, and how many match in all. A limit of 0 counts only.
pub async fn search(
    txn: &DatabaseTransaction,
    q: &SearchQuery,
) -> Result<(Vec<Patient>, u64), StoreError> {
    let mut clauses = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut push = |clause: &str, v: Value| {
        values.push(v);
        clauses.push(clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(f) = &q.family {
        push("family_norm LIKE ? || '%'", like_escape(&norm(f)).into());
    }
    if let Some(g) = &q.given {
        push(
            "EXISTS (SELECT 1 FROM unnest(given_norm) g WHERE g LIKE ? || '%')",
            like_escape(&norm(g)).into(),
        );
    }
    if let Some(d) = q.born_from {
        push("birth_date >= ?", d.into());
    }
    if let Some(d) = q.born_to {
        push("birth_date <= ?", d.into());
    }
    if let Some(s) = &q.sex {
        push("sex = ?", s.clone().into());
    }
    if let Some(p) = &q.postcode {
        push(
            "postcode_norm = ?",
            p.to_uppercase().replace(' ', "").into(),
        );
    }
    if clauses.is_empty() {
        return Ok((Vec::new(), 0));
    }
    clauses.push("merged_into IS NULL".into());
    let filter = clauses.join(" AND ");
    let total: i64 = txn
        .query_one(stmt(
            &format!("SELECT count(*) AS n FROM patient WHERE {filter}"),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    if q.limit == 0 {
        return Ok((Vec::new(), total as u64));
    }
    values.push((q.limit.min(100) as i64).into());
    values.push((q.offset.min(i64::MAX as u64) as i64).into());
    let sql = format!(
        "SELECT {COLUMNS} FROM patient WHERE {filter} ORDER BY family_norm, birth_date, id LIMIT ${} OFFSET ${}",
        values.len() - 1,
        values.len()
    );
    let page = Row::find_by_statement(stmt(&sql, values))
        .all(txn)
        .await?
        .into_iter()
        .map(Row::into_patient)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((page, total as u64))
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
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

#[derive(Debug, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub demographics: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

pub async fn history(
    txn: &DatabaseTransaction,
    id: PatientId,
) -> Result<Vec<HistoryEntry>, StoreError> {
    Ok(HistoryEntry::find_by_statement(stmt(
        "SELECT version, demographics, recorded_at, recorded_by FROM patient_history WHERE patient_id = $1 ORDER BY version",
        vec![id.uuid().into()],
    ))
    .all(txn)
    .await?)
}

/// Candidates for matching, by the same blocking idea as the matcher, through indexes: the
/// NHS number; the birth date with day and month either way; the family name's first letters
/// with the birth year; the postcode.
pub async fn match_candidates(
    txn: &DatabaseTransaction,
    nhs_number: Option<&str>,
    birth_date: Option<NaiveDate>,
    family: Option<&str>,
    postcode: Option<&str>,
    limit: u64,
) -> Result<Vec<Patient>, StoreError> {
    use chrono::Datelike;
    let mut dates: Vec<NaiveDate> = birth_date.into_iter().collect();
    if let Some(d) = birth_date {
        if let Some(swapped) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()) {
            dates.push(swapped);
        }
    }
    let prefix: Option<String> = family
        .map(norm)
        .map(|f| f.chars().take(3).collect::<String>());
    let (year_start, year_end) = match birth_date {
        Some(d) => (
            NaiveDate::from_ymd_opt(d.year(), 1, 1),
            NaiveDate::from_ymd_opt(d.year(), 12, 31),
        ),
        None => (None, None),
    };
    let postcode = postcode.map(|p| p.to_uppercase().replace(' ', ""));
    Row::find_by_statement(stmt(
        &format!(
            "SELECT {COLUMNS} FROM patient WHERE merged_into IS NULL AND (
               ($1::text IS NOT NULL AND nhs_number = $1)
            OR birth_date = ANY($2)
            OR ($3::text IS NOT NULL AND $4::date IS NOT NULL AND left(family_norm, 3) = $3 AND birth_date BETWEEN $4 AND $5)
            OR ($6::text IS NOT NULL AND postcode_norm = $6))
            LIMIT $7"
        ),
        vec![
            nhs_number.map(str::to_owned).into(),
            dates.into(),
            prefix.into(),
            year_start.into(),
            year_end.into(),
            postcode.into(),
            (limit as i64).into(),
        ],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(Row::into_patient)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_row_error_never_quotes_the_stored_value() {
        let e = serde_json::from_str::<Demographics>(r#"{"birth_date": "Testpatient 9434765919"}"#)
            .unwrap_err();
        let msg = StoreError::from(e).to_string();
        assert!(
            !msg.contains("Testpatient") && !msg.contains("9434765919"),
            "{msg}"
        );
    }
}
