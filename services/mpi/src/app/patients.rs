//! Register, update, read, search and history of patient records.
use super::*;

/// Registers a patient. Returns the patient and whether it was created now (false: an
/// earlier request with the same idempotency key created it).
/// Also returns the existing patients this one may duplicate, scored, for a person to review.
pub async fn register(
    auth: &Authorized,
    input: DemographicsInput,
    idempotency_key: Option<String>,
) -> Result<(Patient, bool, Vec<crate::domain::matching::Candidate>), ApiError> {
    let demographics = match input.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => d,
        Err(errors) => {
            let e = crate::api::problem::validation(errors).with_flavour(auth.flavour);
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
                    .map_err(|e| ApiError::database(&e))?
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
            let e = crate::api::problem::validation(errors).with_flavour(auth.flavour);
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
                .map_err(|e| ApiError::database(&e))?;
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
                    .map_err(|e| ApiError::outbox(&e))?;
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
