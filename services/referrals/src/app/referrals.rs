//! Referrals: receive one (shared by the JSON and FHIR APIs), read it with its history,
//! search what the caller may see, and move it through its lifecycle.
use super::decide::{decide_each, decide_one, denied, permit, CareContext, Decided, Who};
use super::{audited, store_error};
use crate::api::Authorized;
use crate::domain::ReferralId;
use crate::store::{self, NewReferral, Referral, ReferralSearch, TransitionRequest};
use chrono::NaiveDate;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, Flavour};

/// The referral's receiving team and clinician: the referral was addressed to them, so they
/// may read it (and only it) whatever its state; the patient's other records need a
/// relationship.
pub fn context_of(r: &Referral) -> Vec<CareContext> {
    vec![CareContext {
        team: Some(r.receiving_team.clone()),
        clinician: r.receiving_clinician.clone(),
        since: r.created_at,
    }]
}

/// Stores a parsed referral, audited: shared by the JSON and FHIR APIs.
pub async fn receive(auth: &Authorized, n: NewReferral) -> Result<Referral, ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let known = n.patient_id;
    let patient = known.to_string();
    let flavour = auth.flavour;
    audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            // Only a patient of this trust can be referred (ADR 21).
            tessera_patients::require_known(txn, known.as_uuid(), chrono::Utc::now())
                .await
                .map_err(|r| ApiError::from(r).with_flavour(flavour))?;
            let r = store::create_referral(txn, &tenant, n, Some(&trace))
                .await
                .map_err(|e| store_error(e, flavour))?;
            Ok((r, Ending::permit(Some(patient), 201, 1)))
        })
    })
    .await
}

/// A referral, if the caller may see it: with its history.
pub async fn read_one(
    auth: &Authorized,
    id: ReferralId,
) -> Result<(Referral, Vec<store::Transition>), ApiError> {
    let flavour = auth.flavour;
    let who = Who::of(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let r = store::referral(txn, id)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let d = decided(&who, txn, &r).await?;
            if !d.outcome.permit {
                return Err(denied(&r.patient_id, &d));
            }
            let h = store::transitions(txn, id)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let ending = permit(&r.patient_id, &d, 200);
            Ok(((r, h), ending))
        })
    })
    .await
}

async fn decided(
    auth: &Who,
    txn: &sea_orm::DatabaseTransaction,
    r: &Referral,
) -> Result<Decided, ApiError> {
    decide_one(auth, txn, &r.patient_id, context_of(r)).await
}

/// The referrals that match and that the caller may see; the audit record counts them.
/// The referrals `s` finds that the caller may see, and whether the store's limit cut the
/// matches short (so a count of what is shown is not the whole).
pub async fn search_visible(
    auth: &Authorized,
    s: ReferralSearch,
) -> Result<(Vec<Referral>, bool), ApiError> {
    let flavour = auth.flavour;
    let one_patient = s.patient_id.map(|p| p.to_string());
    let limit = s.limit;
    let who = Who::of(auth);
    audited(auth, one_patient.clone(), move |txn| {
        Box::pin(async move {
            let mut found = store::search_referrals(txn, &s)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let capped = found.len() as u64 >= limit;
            // FHIR's `_id` and `_lastUpdated` narrow what the criteria found, before anything
            // is decided or counted in the audit record.
            found.retain(|r| {
                (s.ids.is_empty() || s.ids.contains(&r.id.to_string()))
                    && tessera_fhir::search::within(&s.updated, r.updated_at)
            });
            // Each referral is shown when the caller may see that patient's records through a
            // relationship, or through that referral's own care context.
            let items: Vec<(String, Vec<CareContext>)> = found
                .iter()
                .map(|r| (r.patient_id.clone(), context_of(r)))
                .collect();
            let d = decide_each(&who, txn, &items).await?;
            let age = d.first().and_then(|x| x.projection_age_ms);
            let shown: Vec<Referral> = found
                .into_iter()
                .zip(d)
                .filter(|(_, x)| x.outcome.permit)
                .map(|(r, _)| r)
                .collect();
            let mut ending = Ending::permit(one_patient, 200, shown.len() as i32);
            ending.projection_age_ms = age;
            Ok(((shown, capped), ending))
        })
    })
    .await
}

/// Moves a referral to the state `t` asks, if the caller may see the referral (its receiving
/// team, or a relationship with the patient) and the lifecycle allows it.
pub async fn transition(
    auth: &Authorized,
    id: ReferralId,
    t: TransitionRequest,
    today: NaiveDate,
) -> Result<Referral, ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let a = Who::of(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let current = store::referral(txn, id)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
            let d = decided(&a, txn, &current).await?;
            if !d.outcome.permit {
                return Err(denied(&current.patient_id, &d));
            }
            let r = store::transition(txn, &tenant, id, t, today, Some(&trace))
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
            let ending = permit(&r.patient_id, &d, 200);
            Ok((r, ending))
        })
    })
    .await
}
