//! What each endpoint does, once, for both the JSON API and FHIR: the handlers only translate
//! representations. Every function here leaves exactly one audit record, whatever happens.
use super::auth::{Authorized, Ending};
use super::problem::ApiError;
use crate::domain::{DemographicsInput, Patient, PatientId};
use crate::events;
use crate::store::{self, InsertOutcome, SearchQuery, StoreError};
use actix_web::http::StatusCode;
use tessera_nhs::{NhsNumber, OdsCode};

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::DuplicateNhsNumber(id) => ApiError::new(
            StatusCode::CONFLICT,
            "patient.duplicate-nhs-number",
            format!("this NHS number is already registered, to patient {id}"),
        ),
        StoreError::DuplicateLocalNumber(n) => ApiError::new(
            StatusCode::CONFLICT,
            "patient.duplicate-local-number",
            format!("local number {n} is already in use"),
        ),
        StoreError::VersionConflict(v) => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "patient.version-conflict",
            format!("the patient has changed; the current version is {v}"),
        ),
        StoreError::NotFound => ApiError::not_found(),
        StoreError::RegistrationRace => ApiError::new(
            StatusCode::CONFLICT,
            "patient.registration-race",
            "a concurrent registration conflicted; retry",
        ),
        e @ (StoreError::Db(_) | StoreError::Corrupt(_)) => ApiError::internal(&e),
    }
}

/// Runs a write: `work` inside a tenant transaction, then the audit record in the same
/// transaction on success, or in its own after rollback on failure.
async fn audited_write<T, F>(
    auth: &Authorized,
    patient_hint: Option<String>,
    work: F,
) -> Result<T, ApiError>
where
    F: for<'t> FnOnce(
        &'t sea_orm::DatabaseTransaction,
    ) -> futures::future::BoxFuture<'t, Result<(T, Ending), ApiError>>,
{
    let txn = auth.begin().await?;
    match work(&txn).await {
        Ok((value, ending)) => {
            auth.audit_in(&txn, ending).await?;
            txn.commit()
                .await
                .map_err(|e| ApiError::internal(&e).with_flavour(auth.flavour))?;
            auth.state.relay.notify_one();
            Ok(value)
        }
        Err(e) => {
            let e = e.with_flavour(auth.flavour);
            let _ = txn.rollback().await;
            auth.audit(Ending::from_error(patient_hint, &e)).await?;
            Err(e)
        }
    }
}

/// Registers a patient. Returns the patient and whether it was created now (false: an
/// earlier request with the same idempotency key created it).
/// Also returns the existing patients this one may duplicate, scored, for a person to review.
pub async fn register(
    auth: &Authorized,
    input: DemographicsInput,
    idempotency_key: Option<String>,
) -> Result<(Patient, bool, Vec<crate::matching::Candidate>), ApiError> {
    let demographics = match input.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => d,
        Err(errors) => {
            let e = ApiError::validation(errors).with_flavour(auth.flavour);
            auth.audit(Ending::from_error(None, &e)).await?;
            return Err(e);
        }
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let key = idempotency_key.map(|k| format!("{user}:{k}"));
    let model = auth.state.match_model.clone();
    audited_write(auth, None, move |txn| {
        Box::pin(async move {
            // Who this might already be: reported with the new record, for a person to review.
            let probe = crate::matching::Probe::from_demographics(&demographics);
            let existing = candidates_for(txn, &probe).await.map_err(store_error)?;
            let possible = crate::matching::rank(&model, &probe, existing, 5);
            match store::insert(txn, tenant.ods(), demographics, key, &user)
                .await
                .map_err(store_error)?
            {
                InsertOutcome::Created(p) => {
                    tessera_events::enqueue(txn, events::registered(&tenant, &p, &trace))
                        .await
                        .map_err(|e| ApiError::internal(&e))?;
                    let ending = Ending::permit(Some(p.id.to_string()), 201, 1);
                    Ok(((p, true, possible), ending))
                }
                InsertOutcome::AlreadyCreated(p) => {
                    let mut ending = Ending::permit(Some(p.id.to_string()), 201, 1);
                    ending.reason = "idempotent-replay".into();
                    let possible = possible
                        .into_iter()
                        .filter(|c| c.patient.id != p.id)
                        .collect();
                    Ok(((p, false, possible), ending))
                }
            }
        })
    })
    .await
}

pub async fn update(
    auth: &Authorized,
    id: PatientId,
    input: DemographicsInput,
    expected_version: Option<i64>,
) -> Result<Patient, ApiError> {
    let demographics = match input.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => d,
        Err(errors) => {
            let e = ApiError::validation(errors).with_flavour(auth.flavour);
            auth.audit(Ending::from_error(Some(id.to_string()), &e))
                .await?;
            return Err(e);
        }
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    audited_write(auth, Some(id.to_string()), move |txn| {
        Box::pin(async move {
            let (p, changed) = store::update(txn, id, expected_version, demographics, &user)
                .await
                .map_err(store_error)?
                .ok_or_else(ApiError::not_found)?;
            if !changed.is_empty() {
                tessera_events::enqueue(txn, events::updated(&tenant, &p, changed, &trace))
                    .await
                    .map_err(|e| ApiError::internal(&e))?;
            }
            let ending = Ending::permit(Some(p.id.to_string()), 200, 1);
            Ok((p, ending))
        })
    })
    .await
}

/// Runs a read in a tenant transaction and audits how it ended.
async fn audited_read<T, F>(
    auth: &Authorized,
    patient_hint: Option<String>,
    count: impl Fn(&T) -> (Option<String>, i32),
    work: F,
) -> Result<T, ApiError>
where
    F: for<'t> FnOnce(
        &'t sea_orm::DatabaseTransaction,
    ) -> futures::future::BoxFuture<'t, Result<T, StoreError>>,
{
    let result = async {
        let txn = auth.begin().await?;
        let value = work(&txn).await.map_err(store_error)?;
        txn.commit().await.map_err(|e| ApiError::internal(&e))?;
        Ok(value)
    }
    .await
    .map_err(|e: ApiError| e.with_flavour(auth.flavour));
    match result {
        Ok(value) => {
            let (pid, n) = count(&value);
            auth.finish(pid.or(patient_hint), Ok((value, n)), 200).await
        }
        Err(e) => auth.finish(patient_hint, Err::<(T, i32), _>(e), 200).await,
    }
}

fn one(p: &Option<Patient>) -> (Option<String>, i32) {
    (p.as_ref().map(|p| p.id.to_string()), i32::from(p.is_some()))
}

#[allow(clippy::ptr_arg)] // passed where `Fn(&T)` is expected with T = Vec<Patient>
fn many(ps: &Vec<Patient>) -> (Option<String>, i32) {
    let id = if ps.len() == 1 {
        ps.first().map(|p| p.id.to_string())
    } else {
        None
    };
    (id, i32::try_from(ps.len()).unwrap_or(i32::MAX))
}

pub async fn read(auth: &Authorized, id: PatientId) -> Result<Patient, ApiError> {
    audited_read(
        auth,
        Some(id.to_string()),
        |p: &Patient| (Some(p.id.to_string()), 1),
        move |txn| Box::pin(async move { store::get(txn, id).await?.ok_or(StoreError::NotFound) }),
    )
    .await
}

pub async fn find_by_nhs_number(
    auth: &Authorized,
    n: NhsNumber,
) -> Result<Option<Patient>, ApiError> {
    audited_read(auth, None, one, move |txn| {
        Box::pin(async move { store::find_by_nhs_number(txn, &n).await })
    })
    .await
}

pub async fn find_by_local_number(
    auth: &Authorized,
    assigner: OdsCode,
    value: String,
) -> Result<Option<Patient>, ApiError> {
    audited_read(auth, None, one, move |txn| {
        Box::pin(async move { store::find_by_local_number(txn, &assigner, &value).await })
    })
    .await
}

pub async fn search(auth: &Authorized, q: SearchQuery) -> Result<Vec<Patient>, ApiError> {
    audited_read(auth, None, many, move |txn| {
        Box::pin(async move { store::search(txn, &q).await })
    })
    .await
}

pub async fn history(
    auth: &Authorized,
    id: PatientId,
) -> Result<Vec<store::HistoryEntry>, ApiError> {
    audited_read(
        auth,
        Some(id.to_string()),
        |h: &Vec<store::HistoryEntry>| (None, i32::try_from(h.len()).unwrap_or(i32::MAX)),
        move |txn| {
            Box::pin(async move {
                let h = store::history(txn, id).await?;
                if h.is_empty() {
                    return Err(StoreError::NotFound);
                }
                Ok(h)
            })
        },
    )
    .await
}

/// Audits a request that was refused before any work (bad parameters): one record.
pub async fn refuse<T>(
    auth: &Authorized,
    patient_id: Option<String>,
    e: ApiError,
) -> Result<T, ApiError> {
    let e = e.with_flavour(auth.flavour);
    auth.audit(Ending::from_error(patient_id, &e)).await?;
    Err(e)
}

/// Scored, explained candidates for `probe` in the caller's trust (`$match`).
pub async fn match_patient(
    auth: &Authorized,
    probe: crate::matching::Probe,
    limit: usize,
) -> Result<Vec<crate::matching::Candidate>, ApiError> {
    let model = auth.state.match_model.clone();
    audited_read(
        auth,
        None,
        |c: &Vec<crate::matching::Candidate>| {
            let id = if c.len() == 1 {
                c.first().map(|c| c.patient.id.to_string())
            } else {
                None
            };
            (id, i32::try_from(c.len()).unwrap_or(i32::MAX))
        },
        move |txn| {
            Box::pin(async move {
                let candidates = candidates_for(txn, &probe).await?;
                Ok(crate::matching::rank(&model, &probe, candidates, limit))
            })
        },
    )
    .await
}

async fn candidates_for(
    txn: &sea_orm::DatabaseTransaction,
    probe: &crate::matching::Probe,
) -> Result<Vec<Patient>, StoreError> {
    store::match_candidates(
        txn,
        probe.nhs_number.as_deref(),
        probe.birth_date,
        probe.family.as_deref(),
        probe.postcode.as_deref(),
        200,
    )
    .await
}
