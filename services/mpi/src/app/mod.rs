//! The MPI's use cases: what each endpoint does, once, for the JSON API, FHIR and HL7 v2 —
//! the handlers in `api/` only translate representations. Every use case leaves exactly one
//! audit record, whatever happens, and runs in one tenant transaction. Here: the audited
//! transaction plumbing every use case shares; the use cases by subject in
//! [`patients`] (register, update, read, search, history), [`matching`] (`$match`, duplicates,
//! the trust's model and settings), [`merges`] (merge, unmerge, the review queue) and
//! [`feed`] (what an interface engine's messages ask: upsert and merge by identifiers).
use crate::api::access::Access;
use crate::api::auth::{Authorized, Ending};
use crate::api::problem::ApiError;
use crate::domain::{DemographicsInput, Patient, PatientId};
use crate::events;
use crate::store::{self, InsertOutcome, SearchQuery, StoreError};
use tessera_access::contact::{ContactVerdict, Viewer};
use tessera_access::projection;
use tessera_nhs::{NhsNumber, OdsCode};

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::DuplicateNhsNumber(id) => ApiError::new(
            crate::api::errors::DUPLICATE_NHS_NUMBER,
            format!("this NHS number is already registered, to patient {id}"),
        ),
        StoreError::DuplicateLocalNumber(n) => ApiError::new(
            crate::api::errors::DUPLICATE_LOCAL_NUMBER,
            format!("local number {n} is already in use"),
        ),
        StoreError::VersionConflict(v) => ApiError::new(
            crate::api::errors::VERSION_CONFLICT,
            format!("the patient has changed; the current version is {v}"),
        ),
        StoreError::NotFound => ApiError::not_found(),
        StoreError::MergedInto(survivor) => ApiError::new(
            tessera_edge::codes::PATIENT_MERGED,
            format!("this patient was merged into {survivor}; change the survivor instead"),
        ),
        StoreError::Merge(code, message) => ApiError::new(code, message),
        StoreError::RegistrationRace => ApiError::new(
            crate::api::errors::REGISTRATION_RACE,
            "a concurrent registration conflicted; retry",
        ),
        StoreError::Db(e) => ApiError::database(&e),
        e @ StoreError::Corrupt(_) => ApiError::internal(&e),
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
                .map_err(|e| ApiError::database(&e).with_flavour(auth.flavour))?;
            auth.state.gate.relay.notify_one();
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

/// Runs a read in a tenant transaction and audits how it ended: on success the audit record
/// is written in the read's own transaction (one commit per read); on failure, after a
/// rollback, in a transaction of its own.
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
    audited_patient_read(auth, patient_hint, count, |_| Vec::new(), work)
        .await
        .map(|(value, _)| value)
}

/// [`audited_read`] of patient records: the access projection is read in the same transaction
/// for the patients `subjects` names, and the audit record carries the contact decision and
/// the projection's age.
async fn audited_patient_read<T, F>(
    auth: &Authorized,
    patient_hint: Option<String>,
    count: impl Fn(&T) -> (Option<String>, i32),
    subjects: impl Fn(&T) -> Vec<String>,
    work: F,
) -> Result<(T, Access), ApiError>
where
    F: for<'t> FnOnce(
        &'t sea_orm::DatabaseTransaction,
    ) -> futures::future::BoxFuture<'t, Result<T, StoreError>>,
{
    let now = chrono::Utc::now();
    let txn = match auth.begin().await {
        Ok(t) => t,
        Err(e) => {
            auth.audit(Ending::from_error(patient_hint, &e)).await?;
            return Err(e);
        }
    };
    let work = async {
        let value = work(&txn).await?;
        let ids = subjects(&value);
        let view = if ids.is_empty() {
            None
        } else {
            Some(projection::load(&txn, &auth.identity, &ids, now).await?)
        };
        Ok::<_, StoreError>((value, ids, view))
    };
    match work.await {
        Ok((value, ids, view)) => {
            let (pid, n) = count(&value);
            let consulted = view.is_some();
            let access = Access {
                view: view.unwrap_or_default(),
                now,
            };
            let mut ending = Ending::permit(pid.or(patient_hint), 200, n);
            if consulted {
                ending.reason = access.audit_reason(auth, &ids);
                ending.projection_age_ms = Some(access.view.age_ms.unwrap_or(-1));
            }
            auth.audit_in(&txn, ending).await?;
            txn.commit()
                .await
                .map_err(|e| ApiError::database(&e).with_flavour(auth.flavour))?;
            auth.state.gate.relay.notify_one();
            Ok((value, access))
        }
        Err(e) => {
            let e = store_error(e).with_flavour(auth.flavour);
            let _ = txn.rollback().await;
            auth.audit(Ending::from_error(patient_hint, &e)).await?;
            Err(e)
        }
    }
}

fn ids_one(p: &Option<Patient>) -> Vec<String> {
    p.iter().map(|p| p.id.to_string()).collect()
}

#[allow(clippy::ptr_arg)] // passed where `Fn(&T)` is expected with T = Vec<Patient>
fn ids_many(ps: &Vec<Patient>) -> Vec<String> {
    ps.iter().map(|p| p.id.to_string()).collect()
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

mod feed;
mod matching;
mod merges;
pub mod models;
mod patients;

pub use feed::*;
pub use matching::*;
pub use merges::*;
pub use patients::*;
