//! The access decision on a patient's referral data (ADR 13), from the access projection in
//! the use case's own transaction: the caller's relationships with the patient, the care
//! contexts the records asked for give (a referral's receiving team may triage it before any
//! relationship exists), break-glass, and a seal on `referrals`.
use super::Fail;
use crate::api::Authorized;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use tessera_access::decision::{decide, DataClass, Outcome, Relationship, Request};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

/// The item name of a patient's referrals and pathways in seals.
pub const ITEM: &str = "referrals";

/// Who the referral itself puts in care of the patient: its receiving team and clinician,
/// while it is open. Triage needs to read what it triages before any relationship exists.
pub struct CareContext {
    pub team: Option<String>,
    pub clinician: Option<String>,
    pub since: DateTime<Utc>,
}

/// The access decision on one patient's referral data, from the projection in this
/// transaction: the caller's relationships with the patient, the care contexts of the
/// records asked for, break-glass, and a seal on `referrals`.
pub struct Decided {
    pub outcome: Outcome,
    pub projection_age_ms: Option<i64>,
}

/// Whose decision it is: what the decision needs of the caller, owned, so the work of an
/// audited transaction can carry it.
#[derive(Clone)]
pub struct Who {
    pub identity: tessera_access::Identity,
    pub owner: tessera_nhs::OdsCode,
    pub activity: String,
}

impl Who {
    pub fn of(auth: &Authorized) -> Self {
        Self {
            identity: auth.identity.clone(),
            owner: auth.tenant.ods().clone(),
            activity: auth.state.config.roles.referral_activity.clone(),
        }
    }
}

/// One decision per item: the patient whose data it is, and the care contexts the item
/// itself gives. The projection is read once, in this transaction.
pub async fn decide_each(
    auth: &Who,
    txn: &DatabaseTransaction,
    items: &[(String, Vec<CareContext>)],
) -> Result<Vec<Decided>, ApiError> {
    let now = Utc::now();
    let mut patients: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
    patients.sort();
    patients.dedup();
    let view = tessera_access::projection::load(txn, &auth.identity, &patients, now)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let mut out = Vec::with_capacity(items.len());
    for (p, contexts) in items {
        let pa = view.patient(p);
        let mut rels = pa.relationships.clone();
        for c in contexts {
            let mk = |user: Option<String>, team: Option<String>| Relationship {
                user,
                team,
                starts: c.since,
                ends: None,
            };
            rels.extend(c.team.clone().map(|t| mk(None, Some(t))));
            rels.extend(c.clinician.clone().map(|u| mk(Some(u), None)));
        }
        let outcome = decide(&Request {
            who: &auth.identity,
            teams: &view.teams,
            activity: &auth.activity,
            owner: &auth.owner,
            class: DataClass::Clinical,
            seal: pa.seal(ITEM),
            relationships: &rels,
            break_glass: pa.break_glass.as_ref(),
            consent: pa.consent,
            now,
        });
        out.push(Decided {
            outcome,
            projection_age_ms: Some(view.age_ms.unwrap_or(-1)),
        });
    }
    Ok(out)
}

/// The decision on one patient's data, with the contexts the records asked for give.
pub async fn decide_one(
    auth: &Who,
    txn: &DatabaseTransaction,
    patient: &str,
    contexts: Vec<CareContext>,
) -> Result<Decided, ApiError> {
    decide_each(auth, txn, &[(patient.to_string(), contexts)])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(&"decision missing"))
}

/// The ending of a permitted read or write of one patient's data (`Ending::decided`).
pub fn permit(patient: &str, d: &Decided, status: u16) -> Ending {
    Ending::decided(patient, &d.outcome, d.projection_age_ms, status, 1)
}

/// The refusal a denied decision answers: 403 with the decision's reason as the code.
pub fn denied(patient: &str, d: &Decided) -> Fail {
    Fail::denied(
        patient,
        &d.outcome,
        "no legitimate relationship permits this (or the record is sealed)",
    )
}
