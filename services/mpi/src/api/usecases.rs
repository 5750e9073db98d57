//! What each endpoint does, once, for both the JSON API and FHIR: the handlers only translate
//! representations. Every function here leaves exactly one audit record, whatever happens.
use super::access::Access;
use super::auth::{Authorized, Ending};
use super::problem::ApiError;
use crate::domain::{DemographicsInput, Patient, PatientId};
use crate::events;
use crate::store::{self, InsertOutcome, SearchQuery, StoreError};
use actix_web::http::StatusCode;
use tessera_access::contact::{ContactVerdict, Viewer};
use tessera_access::projection;
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
        StoreError::MergedInto(survivor) => ApiError::new(
            StatusCode::CONFLICT,
            "patient.merged",
            format!("this patient was merged into {survivor}; change the survivor instead"),
        ),
        StoreError::Merge(code, message) => ApiError::new(StatusCode::CONFLICT, code, message),
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
            let e = super::problem::validation(errors).with_flavour(auth.flavour);
            auth.audit(Ending::from_error(None, &e)).await?;
            return Err(e);
        }
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let key = idempotency_key.map(|k| format!("{user}:{k}"));
    let model = model_for(auth).await?;
    let who = auth.identity.clone();
    let now = chrono::Utc::now();
    let result = audited_write(auth, None, move |txn| {
        Box::pin(async move {
            // Who this might already be: reported with the new record, for a person to review,
            // each as the access decision lets this caller see them.
            let possible = possible_duplicates(txn, &model, &demographics).await?;
            let ids: Vec<String> = possible.iter().map(|c| c.patient.id.to_string()).collect();
            let view = if ids.is_empty() {
                Default::default()
            } else {
                projection::load(txn, &who, &ids, now)
                    .await
                    .map_err(|e| ApiError::internal(&e))?
            };
            match store::insert(txn, tenant.ods(), demographics, key, &user)
                .await
                .map_err(store_error)?
            {
                InsertOutcome::Created(p) => {
                    let p = registered(txn, &tenant, &trace, &model, p, &possible).await?;
                    let ending = Ending::permit(Some(p.id.to_string()), 201, 1);
                    Ok(((p, true, possible, view), ending))
                }
                InsertOutcome::AlreadyCreated(p) => {
                    let mut ending = Ending::permit(Some(p.id.to_string()), 201, 1);
                    ending.reason = "idempotent-replay".into();
                    let possible = possible
                        .into_iter()
                        .filter(|c| c.patient.id != p.id)
                        .collect();
                    Ok(((p, false, possible, view), ending))
                }
            }
        })
    })
    .await;
    result.map(|(p, created, possible, view)| {
        let access = Access { view, now };
        let possible = possible
            .into_iter()
            .map(|mut c| {
                c.patient = access.shown(auth, c.patient);
                c
            })
            .collect();
        (access.shown(auth, p), created, possible)
    })
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
            let e = super::problem::validation(errors).with_flavour(auth.flavour);
            auth.audit(Ending::from_error(Some(id.to_string()), &e))
                .await?;
            return Err(e);
        }
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let model = model_for(auth).await?;
    let who = auth.identity.clone();
    let owner = auth.tenant.ods().clone();
    let s_flag = auth.state.restricted_activity.clone();
    let result = audited_write(auth, Some(id.to_string()), move |txn| {
        Box::pin(async move {
            // A caller who may not see the contact group (sealed, or no relationship) can
            // neither see nor change it.
            let now = chrono::Utc::now();
            let pid = id.to_string();
            let view = projection::load(txn, &who, std::slice::from_ref(&pid), now)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            let viewer = Viewer {
                who: &who,
                owner: &owner,
                view: &view,
                s_flag_activity: &s_flag,
                now,
            };
            let (p, changed) = store::update(
                txn,
                id,
                expected_version,
                demographics,
                &user,
                |restricted| viewer.contact(&pid, restricted),
            )
            .await
            .map_err(store_error)?
            .ok_or_else(ApiError::not_found)?;
            if !changed.is_empty() {
                tessera_events::enqueue(txn, events::updated(&tenant, &p, changed, &trace))
                    .await
                    .map_err(|e| ApiError::internal(&e))?;
                // New details can reveal a duplicate the old ones hid.
                let possible = possible_duplicates(txn, &model, &p.demographics).await?;
                queue_for_review(txn, p.id, &possible).await?;
            }
            let ending = Ending::permit(Some(p.id.to_string()), 200, 1);
            Ok(((p, view), ending))
        })
    })
    .await;
    result.map(|(p, view)| {
        Access {
            view,
            now: chrono::Utc::now(),
        }
        .shown(auth, p)
    })
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
                .map_err(|e| ApiError::internal(&e).with_flavour(auth.flavour))?;
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

/// A read by id: the record asked for and, when it was merged away, the survivor.
pub struct Read {
    pub record: Patient,
    pub survivor: Option<Patient>,
}

impl Read {
    /// The record to act on: the survivor when there is one.
    pub fn current(&self) -> &Patient {
        self.survivor.as_ref().unwrap_or(&self.record)
    }
}

pub async fn read(auth: &Authorized, id: PatientId) -> Result<Read, ApiError> {
    let (read, access) = audited_patient_read(
        auth,
        Some(id.to_string()),
        |r: &Read| (Some(r.current().id.to_string()), 1),
        |r: &Read| vec![r.current().id.to_string()],
        move |txn| {
            Box::pin(async move {
                let record = store::get(txn, id).await?.ok_or(StoreError::NotFound)?;
                let survivor = match record.merged_into {
                    Some(_) => Some(store::resolve(txn, record.clone()).await?),
                    None => None,
                };
                Ok(Read { record, survivor })
            })
        },
    )
    .await?;
    // The merged-away record is shown as its survivor's decision allows.
    let current = read.current().id.to_string();
    let show = |mut p: Patient| {
        if !access
            .verdict(auth, &current, p.demographics.restricted)
            .shown
        {
            p.demographics = p.demographics.redacted();
        }
        p
    };
    Ok(Read {
        record: show(read.record),
        survivor: read.survivor.map(show),
    })
}

pub async fn find_by_nhs_number(
    auth: &Authorized,
    n: NhsNumber,
) -> Result<Option<Patient>, ApiError> {
    let (found, access) = audited_patient_read(auth, None, one, ids_one, move |txn| {
        Box::pin(async move {
            match store::find_by_nhs_number(txn, &n).await? {
                Some(p) => Ok(Some(store::resolve(txn, p).await?)),
                None => Ok(None),
            }
        })
    })
    .await?;
    Ok(found.map(|p| access.shown(auth, p)))
}

pub async fn find_by_local_number(
    auth: &Authorized,
    assigner: OdsCode,
    value: String,
) -> Result<Option<Patient>, ApiError> {
    let (found, access) = audited_patient_read(auth, None, one, ids_one, move |txn| {
        Box::pin(async move { store::find_by_local_number(txn, &assigner, &value).await })
    })
    .await?;
    Ok(found.map(|p| access.shown(auth, p)))
}

/// One page of a demographic search, and how many match in all.
pub async fn search(auth: &Authorized, q: SearchQuery) -> Result<(Vec<Patient>, u64), ApiError> {
    let ((found, total), access) = audited_patient_read(
        auth,
        None,
        |(page, _): &(Vec<Patient>, u64)| many(page),
        |(page, _): &(Vec<Patient>, u64)| ids_many(page),
        move |txn| Box::pin(async move { store::search(txn, &q).await }),
    )
    .await?;
    Ok((
        found.into_iter().map(|p| access.shown(auth, p)).collect(),
        total,
    ))
}

pub async fn history(
    auth: &Authorized,
    id: PatientId,
) -> Result<Vec<store::HistoryEntry>, ApiError> {
    let ((mut h, restricted), access) = audited_patient_read(
        auth,
        Some(id.to_string()),
        |(h, _): &(Vec<store::HistoryEntry>, bool)| {
            (None, i32::try_from(h.len()).unwrap_or(i32::MAX))
        },
        |_| vec![id.to_string()],
        move |txn| {
            Box::pin(async move {
                let h = store::history(txn, id).await?;
                let restricted = store::get(txn, id)
                    .await?
                    .is_some_and(|p| p.demographics.restricted);
                if h.is_empty() {
                    return Err(StoreError::NotFound);
                }
                Ok((h, restricted))
            })
        },
    )
    .await?;
    // Past locations are as sensitive as the current one.
    if !access.verdict(auth, &id.to_string(), restricted).shown {
        for v in &mut h {
            if let Some(o) = v.demographics.as_object_mut() {
                o.insert("addresses".into(), serde_json::json!([]));
                o.insert("telecom".into(), serde_json::json!([]));
                o.insert("general_practice".into(), serde_json::Value::Null);
            }
        }
    }
    Ok(h)
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
    let model = model_for(auth).await?;
    let (found, access) = audited_patient_read(
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
        |c: &Vec<crate::matching::Candidate>| c.iter().map(|c| c.patient.id.to_string()).collect(),
        move |txn| {
            Box::pin(async move {
                let candidates = candidates_for(txn, &probe).await?;
                Ok(crate::matching::rank(&model, &probe, candidates, limit))
            })
        },
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|mut c| {
            c.patient = access.shown(auth, c.patient);
            c
        })
        .collect())
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

/// Existing records `d` may duplicate, scored, best first (the record itself is left out by
/// the caller's queueing: a pair of one record is never offered).
async fn possible_duplicates(
    txn: &sea_orm::DatabaseTransaction,
    model: &tessera_matching::Model,
    d: &crate::domain::Demographics,
) -> Result<Vec<crate::matching::Candidate>, ApiError> {
    let probe = crate::matching::Probe::from_demographics(d);
    let existing = candidates_for(txn, &probe).await.map_err(store_error)?;
    Ok(crate::matching::rank(model, &probe, existing, 5))
}

/// After a new record is inserted: queue its possible duplicates, publish PatientRegistered,
/// and auto-link it if the trust says so (then it comes back merged).
async fn registered(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    matching: &crate::models::Matching,
    mut p: Patient,
    possible: &[crate::matching::Candidate],
) -> Result<Patient, ApiError> {
    queue_for_review(txn, p.id, possible).await?;
    tessera_events::enqueue(txn, events::registered(tenant, &p, trace))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if matching.auto_link {
        p.merged_into = auto_link(txn, tenant, trace, &p, possible).await?;
    }
    Ok(p)
}

/// Queues scored candidates of `patient` for a person to review. Pairs seen before stay as
/// they were: a rejected pair is never offered again.
async fn queue_for_review(
    txn: &sea_orm::DatabaseTransaction,
    patient: PatientId,
    candidates: &[crate::matching::Candidate],
) -> Result<(), ApiError> {
    for c in candidates {
        let explanation = serde_json::to_value(&c.explanation).unwrap_or_default();
        store::reviews::offer(txn, patient, c.patient.id, c.score, c.grade, explanation)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// Merges `merged` into `survivor` (from the API, a confirmed review, or HL7 A40).
pub async fn merge(
    auth: &Authorized,
    survivor: PatientId,
    merged: PatientId,
) -> Result<(store::merges::Merge, Patient), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let (m, p) = audited_write(auth, Some(survivor.to_string()), move |txn| {
        Box::pin(async move {
            let (m, p) = merge_in(txn, &tenant, &trace, survivor, merged, None, &user).await?;
            Ok(((m, p), Ending::permit(Some(survivor.to_string()), 201, 1)))
        })
    })
    .await?;
    Ok((m, Access::none().shown(auth, p)))
}

/// The merge itself and its events, inside the caller's transaction.
pub(super) async fn merge_in(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    survivor: PatientId,
    merged: PatientId,
    review: Option<uuid::Uuid>,
    user: &str,
) -> Result<(store::merges::Merge, Patient), ApiError> {
    let (m, change, merged_nhs) = store::merges::merge(txn, survivor, merged, review, user)
        .await
        .map_err(store_error)?;
    let nhs = merged_nhs.as_ref().map(|n| n.as_str());
    tessera_events::enqueue(
        txn,
        events::merged(tenant, &m, &change.survivor, nhs, trace),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    survivor_updated(txn, tenant, trace, &change).await?;
    Ok((m, change.survivor))
}

/// PatientUpdated for a survivor a merge or an unmerge changed.
async fn survivor_updated(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    change: &store::merges::SurvivorChange,
) -> Result<(), ApiError> {
    if change.changed.is_empty() {
        return Ok(());
    }
    let event = events::updated(tenant, &change.survivor, change.changed.clone(), trace);
    tessera_events::enqueue(txn, event)
        .await
        .map(|_| ())
        .map_err(|e| ApiError::internal(&e))
}

/// Undoes a merge; returns the merge, the survivor and the restored record.
pub async fn unmerge(
    auth: &Authorized,
    merge_id: uuid::Uuid,
) -> Result<(store::merges::Merge, Patient, Patient), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let (m, s, r) = audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let (m, change, restored) = store::merges::unmerge(txn, merge_id, &user)
                .await
                .map_err(store_error)?;
            tessera_events::enqueue(
                txn,
                events::unmerged(&tenant, &m, &change.survivor, &restored, &trace),
            )
            .await
            .map_err(|e| ApiError::internal(&e))?;
            survivor_updated(txn, &tenant, &trace, &change).await?;
            let survivor = change.survivor;
            let ending = Ending::permit(Some(restored.id.to_string()), 200, 1);
            Ok(((m, survivor, restored), ending))
        })
    })
    .await?;
    Ok((
        m,
        Access::none().shown(auth, s),
        Access::none().shown(auth, r),
    ))
}

pub async fn merges_of(
    auth: &Authorized,
    patient: PatientId,
) -> Result<Vec<store::merges::Merge>, ApiError> {
    audited_read(
        auth,
        Some(patient.to_string()),
        |m: &Vec<store::merges::Merge>| (None, i32::try_from(m.len()).unwrap_or(i32::MAX)),
        move |txn| Box::pin(async move { store::merges::for_patient(txn, patient).await }),
    )
    .await
}

pub async fn reviews(
    auth: &Authorized,
    status: String,
    limit: u64,
) -> Result<Vec<store::reviews::Review>, ApiError> {
    audited_read(
        auth,
        None,
        |r: &Vec<store::reviews::Review>| (None, i32::try_from(r.len()).unwrap_or(i32::MAX)),
        move |txn| Box::pin(async move { store::reviews::list(txn, &status, limit).await }),
    )
    .await
}

/// A person's decision on a queued pair: confirm merges them (into `survivor`, or the older
/// record), reject remembers the pair so it is never offered again.
pub async fn decide_review(
    auth: &Authorized,
    review: uuid::Uuid,
    confirm: bool,
    survivor: Option<PatientId>,
    reason: Option<String>,
) -> Result<(store::reviews::Review, Option<store::merges::Merge>), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let item = store::reviews::get_for_update(txn, review)
                .await
                .map_err(store_error)?
                .ok_or_else(ApiError::not_found)?;
            if item.status != "open" {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "review.decided",
                    format!("this pair was already {}", item.status),
                ));
            }
            let low = PatientId::from_uuid(item.patient_low);
            let high = PatientId::from_uuid(item.patient_high);
            if !confirm {
                let r = store::reviews::decide(txn, review, "rejected", &user, reason, None)
                    .await
                    .map_err(store_error)?;
                let ending = Ending::permit(Some(low.to_string()), 200, 1);
                return Ok(((r, None), ending));
            }
            // Ids are time-ordered (UUIDv7): the lower one was registered first.
            let (keep, gone) = match survivor {
                None => (low, high),
                Some(s) if s == low => (low, high),
                Some(s) if s == high => (high, low),
                Some(_) => {
                    return Err(super::problem::validation(vec![
                        crate::domain::FieldError {
                            field: "survivor".into(),
                            code: "not-in-pair".into(),
                            message: "the survivor must be one of the pair".into(),
                        },
                    ]))
                }
            };
            let (m, _) = merge_in(txn, &tenant, &trace, keep, gone, Some(review), &user).await?;
            let r = store::reviews::decide(txn, review, "confirmed", &user, reason, Some(m.id))
                .await
                .map_err(store_error)?;
            let ending = Ending::permit(Some(keep.to_string()), 200, 1);
            Ok(((r, Some(m)), ending))
        })
    })
    .await
}

/// The identifiers an interface names a patient by (HL7 PID-3, MRG-1).
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    pub nhs_number: Option<NhsNumber>,
    pub local: Vec<(OdsCode, String)>,
}

impl Identifiers {
    pub fn is_empty(&self) -> bool {
        self.nhs_number.is_none() && self.local.is_empty()
    }
}

/// The active patient any of `ids` names: the NHS number first, then local numbers.
async fn find_by_identifiers(
    txn: &sea_orm::DatabaseTransaction,
    ids: &Identifiers,
) -> Result<Option<Patient>, StoreError> {
    if let Some(n) = &ids.nhs_number {
        if let Some(p) = store::find_by_nhs_number(txn, n).await? {
            return Ok(Some(store::resolve(txn, p).await?));
        }
    }
    for (assigner, value) in &ids.local {
        if let Some(p) = store::find_by_local_number(txn, assigner, value).await? {
            return Ok(Some(store::resolve(txn, p).await?));
        }
    }
    Ok(None)
}

pub enum Upserted {
    Registered(Patient),
    /// The patient, and whether anything changed.
    Updated(Patient, bool),
}

/// Registers or updates the patient `ids` name, in one transaction with one audit record.
/// `build` turns the current demographics (if any) into the new ones, so a feed that sends
/// only some fields leaves the others as they are.
pub async fn upsert<B>(auth: &Authorized, ids: Identifiers, build: B) -> Result<Upserted, ApiError>
where
    B: FnOnce(Option<&crate::domain::Demographics>) -> DemographicsInput + Send + 'static,
{
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    let model = model_for(auth).await?;
    // The trust's own feed keeps the contact group current (ADR 24).
    let feed = ContactVerdict::for_own_feed(&auth.identity, &auth.state.restricted_activity);
    audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let existing = find_by_identifiers(txn, &ids).await.map_err(store_error)?;
            let input = build(existing.as_ref().map(|p| &p.demographics));
            let demographics = input
                .parse(chrono::Utc::now().date_naive())
                .map_err(ApiError::validation)?;
            match existing {
                Some(current) => {
                    let (p, changed) =
                        store::update(txn, current.id, None, demographics, &user, |_| feed)
                            .await
                            .map_err(store_error)?
                            .ok_or_else(ApiError::not_found)?;
                    let any = !changed.is_empty();
                    if any {
                        tessera_events::enqueue(txn, events::updated(&tenant, &p, changed, &trace))
                            .await
                            .map_err(|e| ApiError::internal(&e))?;
                    }
                    let ending = Ending::permit(Some(p.id.to_string()), 200, 1);
                    Ok((Upserted::Updated(p, any), ending))
                }
                None => {
                    let possible = possible_duplicates(txn, &model, &demographics).await?;
                    let p = match store::insert(txn, tenant.ods(), demographics, None, &user)
                        .await
                        .map_err(store_error)?
                    {
                        InsertOutcome::Created(p) | InsertOutcome::AlreadyCreated(p) => p,
                    };
                    let p = registered(txn, &tenant, &trace, &model, p, &possible).await?;
                    let ending = Ending::permit(Some(p.id.to_string()), 201, 1);
                    Ok((Upserted::Registered(p), ending))
                }
            }
        })
    })
    .await
}

pub enum MergedByIdentifiers {
    Merged(store::merges::Merge),
    /// The prior record already resolves to the survivor: nothing to do.
    AlreadyMerged,
}

/// Merges the patient `prior` names into the one `survivor` names (HL7 A40).
pub async fn merge_by_identifiers(
    auth: &Authorized,
    survivor: Identifiers,
    prior: Identifiers,
) -> Result<MergedByIdentifiers, ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let user = auth.identity.user_id.clone();
    audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let unknown = |which: &str| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "patient.unknown-identifier",
                    format!("no patient has the {which} identifiers"),
                )
            };
            let keep = find_by_identifiers(txn, &survivor)
                .await
                .map_err(store_error)?
                .ok_or_else(|| unknown("surviving"))?;
            let gone = find_by_identifiers(txn, &prior)
                .await
                .map_err(store_error)?
                .ok_or_else(|| unknown("prior"))?;
            if keep.id == gone.id {
                let ending = Ending::permit(Some(keep.id.to_string()), 200, 1);
                return Ok((MergedByIdentifiers::AlreadyMerged, ending));
            }
            let (m, _) = merge_in(txn, &tenant, &trace, keep.id, gone.id, None, &user).await?;
            let ending = Ending::permit(Some(keep.id.to_string()), 201, 1);
            Ok((MergedByIdentifiers::Merged(m), ending))
        })
    })
    .await
}

/// The caller's trust's matching: its own model if trained or tuned (else the defaults), and
/// whether it auto-links.
async fn model_for(auth: &Authorized) -> Result<std::sync::Arc<crate::models::Matching>, ApiError> {
    if let Some(m) = auth.state.models.get(auth.tenant.as_str()).await {
        return Ok(m);
    }
    let txn = auth.begin().await?;
    let stored = store::settings::load(&txn).await.map_err(store_error)?;
    let _ = txn.commit().await;
    let matching = std::sync::Arc::new(match stored {
        Some(s) => crate::models::Matching {
            model: s.model,
            auto_link: s.auto_link,
        },
        None => crate::models::Matching::default(),
    });
    auth.state
        .models
        .put(auth.tenant.as_str(), matching.clone())
        .await;
    Ok(matching)
}

/// What a trust's matching uses now.
#[derive(serde::Serialize)]
pub struct MatchSettings {
    pub thresholds: tessera_matching::Thresholds,
    /// Whether a registration that scores `match` against one record is merged into it at
    /// once (else every pair waits in the review queue).
    pub auto_link: bool,
    pub prior: f64,
    /// Records the weights were learned from (0: the defaults).
    pub trained_on: i64,
    pub trained_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Each field's levels and their weights in bits.
    pub weights: serde_json::Value,
}

fn describe(
    model: &tessera_matching::Model,
    auto_link: bool,
    trained_on: i64,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> MatchSettings {
    let weights = model
        .describe()
        .into_iter()
        .map(|(f, levels)| {
            let levels: serde_json::Map<String, serde_json::Value> = levels
                .into_iter()
                .map(|(l, w)| {
                    (
                        l.to_string(),
                        serde_json::json!((w * 100.0).round() / 100.0),
                    )
                })
                .collect();
            (f.name().to_string(), serde_json::Value::Object(levels))
        })
        .collect::<serde_json::Map<_, _>>();
    MatchSettings {
        thresholds: model.thresholds,
        auto_link,
        prior: model.prior,
        trained_on,
        trained_at: at,
        weights: serde_json::Value::Object(weights),
    }
}

pub async fn match_settings(auth: &Authorized) -> Result<MatchSettings, ApiError> {
    audited_read(
        auth,
        None,
        |_: &MatchSettings| (None, 0),
        move |txn| {
            Box::pin(async move {
                Ok(match store::settings::load(txn).await? {
                    Some(s) => describe(&s.model, s.auto_link, s.trained_on, Some(s.trained_at)),
                    None => describe(&tessera_matching::Model::default(), false, 0, None),
                })
            })
        },
    )
    .await
}

/// Changes a trust's matching settings, keeping what is not given, and caches the result.
async fn change_settings<F>(auth: &Authorized, change: F) -> Result<MatchSettings, ApiError>
where
    F: for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
            crate::models::Matching,
        ) -> futures::future::BoxFuture<
            't,
            Result<(crate::models::Matching, Option<i64>), ApiError>,
        > + Send
        + 'static,
{
    let (settings, matching) = audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let (current, trained_on) =
                match store::settings::load(txn).await.map_err(store_error)? {
                    Some(s) => (
                        crate::models::Matching {
                            model: s.model,
                            auto_link: s.auto_link,
                        },
                        s.trained_on,
                    ),
                    None => (crate::models::Matching::default(), 0),
                };
            // A retrained model records how many records it learned from; a threshold change
            // keeps the count.
            let (next, learned_from) = change(txn, current).await?;
            let trained_on = learned_from.unwrap_or(trained_on);
            let at = store::settings::save(txn, &next.model, trained_on, next.auto_link)
                .await
                .map_err(store_error)?;
            let described = describe(&next.model, next.auto_link, trained_on, Some(at));
            Ok(((described, next), Ending::permit(None, 200, 0)))
        })
    })
    .await?;
    auth.state
        .models
        .put(auth.tenant.as_str(), std::sync::Arc::new(matching))
        .await;
    Ok(settings)
}

/// Sets the trust's thresholds (bits): auto-link at or above `link`, review at or above
/// `review`; and whether `match` pairs merge on registration.
pub async fn set_thresholds(
    auth: &Authorized,
    thresholds: tessera_matching::Thresholds,
    auto_link: Option<bool>,
) -> Result<MatchSettings, ApiError> {
    let valid = thresholds.link.is_finite()
        && thresholds.review.is_finite()
        && (-20.0..=60.0).contains(&thresholds.review)
        && (-20.0..=60.0).contains(&thresholds.link)
        && thresholds.review < thresholds.link;
    if !valid {
        return refuse(
            auth,
            None,
            super::problem::validation(vec![crate::domain::FieldError {
                field: "thresholds".into(),
                code: "range".into(),
                message: "review < link, both between -20 and 60 bits".into(),
            }]),
        )
        .await;
    }
    change_settings(auth, move |_, current| {
        Box::pin(async move {
            Ok((
                crate::models::Matching {
                    model: current.model.with_thresholds(thresholds),
                    auto_link: auto_link.unwrap_or(current.auto_link),
                },
                None,
            ))
        })
    })
    .await
}

/// Learns the trust's weights from its own records (up to `sample` of the newest), keeping
/// its thresholds. u from random pairs, m by EM over blocked pairs (`libs/matching`).
pub async fn train(auth: &Authorized, sample: u64) -> Result<MatchSettings, ApiError> {
    change_settings(auth, move |txn, current| {
        Box::pin(async move {
            let people = store::settings::sample(txn, sample)
                .await
                .map_err(store_error)?;
            let n = people.len() as i64;
            let base = current.model;
            let model = tokio::task::spawn_blocking(move || {
                let persons: Vec<tessera_matching::Person> = people
                    .iter()
                    .map(|d| crate::matching::Probe::from_demographics(d).person())
                    .collect();
                let candidates = tessera_matching::Blocker::default().dedupe_pairs(&persons);
                let random = random_pairs(persons.len(), 50_000);
                base.train(&persons, &candidates, &random, 10)
            })
            .await
            .map_err(|e| ApiError::internal(&e))?;
            Ok((
                crate::models::Matching {
                    model,
                    auto_link: current.auto_link,
                },
                Some(n),
            ))
        })
    })
    .await
}

/// Pairs of distinct records, spread evenly and deterministically (no RNG needed: a
/// multiplicative step co-prime with `n` visits every offset).
fn random_pairs(n: usize, count: usize) -> Vec<(u32, u32)> {
    if n < 2 {
        return Vec::new();
    }
    let step = 2_654_435_761usize % n.max(2);
    (0..count)
        .map(|i| {
            let a = (i * 7919) % n;
            let b = (a + 1 + (i * step.max(1)) % (n - 1)) % n;
            (a as u32, b as u32)
        })
        .filter(|(a, b)| a != b)
        .collect()
}

/// With auto-link on: a new record that scores `match` against exactly one existing record
/// (and passes the evidence rules, which `decision` already applied) is merged into it at
/// once, as a system merge that can be undone like any other; its review item is confirmed
/// by `auto-link`. Two or more `match` candidates are left for a person.
async fn auto_link(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    new: &Patient,
    candidates: &[crate::matching::Candidate],
) -> Result<Option<PatientId>, ApiError> {
    let matches: Vec<&crate::matching::Candidate> = candidates
        .iter()
        .filter(|c| c.decision == "match")
        .collect();
    let [only] = matches.as_slice() else {
        return Ok(None);
    };
    let survivor = only.patient.id;
    let review = store::reviews::for_pair(txn, new.id, survivor)
        .await
        .map_err(store_error)?;
    let review_id = review.as_ref().map(|r| r.id);
    let (m, _) = merge_in(txn, tenant, trace, survivor, new.id, review_id, "auto-link").await?;
    if let Some(id) = review_id {
        store::reviews::decide(
            txn,
            id,
            "confirmed",
            "auto-link",
            Some("auto-link".into()),
            Some(m.id),
        )
        .await
        .map_err(store_error)?;
    }
    Ok(Some(survivor))
}
