//! What an interface engine's messages ask of the index: upsert and merge a patient named by identifiers (HL7 v2 PID-3, MRG-1).
use super::*;

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
pub(super) async fn find_by_identifiers(
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
                            .map_err(|e| ApiError::outbox(&e))?;
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
                    crate::api::errors::UNKNOWN_IDENTIFIER,
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
