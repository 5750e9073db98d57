//! What every handler here shares: the gate over this service's state, one audited
//! transaction per request, and the access decision on a patient's referral data.
use super::AppState;
use crate::domain::DomainError;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use tessera_access::decision::{decide, DataClass, Outcome, Relationship, Request};
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, FieldError, Flavour};

pub type Caller = tessera_edge::gate::Caller<AppState>;
pub type Authorized = tessera_edge::gate::Authorized<AppState>;

pub fn store_error(e: StoreError, flavour: Flavour) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such record"),
        StoreError::Conflict(code, detail) => ApiError::conflict(code, detail),
        StoreError::Domain(d) => domain_error(d),
        StoreError::Patient(r) => r.into(),
        other => ApiError::internal(&other),
    }
    .with_flavour(flavour)
}

pub fn domain_error(e: DomainError) -> ApiError {
    match e {
        DomainError::Invalid {
            field,
            code,
            message,
        } => ApiError::validation(vec![FieldError::new(field, code, message)]),
        e @ DomainError::IllegalTransition { .. } => {
            ApiError::conflict("referral.illegal-transition", e.to_string())
        }
    }
}

pub fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

pub type Work<'t, T> = futures::future::BoxFuture<'t, Result<(T, Ending), Fail>>;

/// Why work failed, and the patient it was about when the work found out.
pub struct Fail {
    pub error: ApiError,
    pub patient_id: Option<String>,
}

impl From<ApiError> for Fail {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            patient_id: None,
        }
    }
}

/// Runs `work` in the tenant's transaction; it answers the value and how the request ended
/// (its audit record, written in the same transaction), or the error. On failure the work
/// rolls back and the refusal is audited on its own.
pub async fn audited<T, F>(
    auth: &Authorized,
    patient_id: Option<String>,
    work: F,
) -> Result<T, ApiError>
where
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> Work<'t, T>,
{
    let txn = match auth.begin().await {
        Ok(t) => t,
        Err(e) => {
            auth.audit(Ending::from_error(patient_id, &e)).await?;
            return Err(e);
        }
    };
    match work(&txn).await {
        Ok((v, ending)) => {
            auth.audit_in(&txn, ending).await?;
            txn.commit()
                .await
                .map_err(|e| ApiError::internal(&e).with_flavour(auth.flavour))?;
            auth.state.gate.relay.notify_one();
            Ok(v)
        }
        Err(f) => {
            let e = f.error.with_flavour(auth.flavour);
            let _ = txn.rollback().await;
            auth.audit(Ending::from_error(f.patient_id.or(patient_id), &e))
                .await?;
            Err(e)
        }
    }
}

/// Audits a request refused before any work (bad input).
pub async fn refuse<T>(
    auth: &Authorized,
    patient_id: Option<String>,
    e: ApiError,
) -> Result<T, ApiError> {
    let e = e.with_flavour(auth.flavour);
    auth.audit(Ending::from_error(patient_id, &e)).await?;
    Err(e)
}

/// A patient id as the MPI issues them: a UUID.
pub fn patient_id(s: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.to_string())
        .map_err(|_| invalid("patient_id", "format", "a patient id (UUID)"))
}

pub fn uuid(field: &str, s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s.trim()).map_err(|_| invalid(field, "format", "an id (UUID)"))
}

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
        .map_err(|e| ApiError::internal(&e))?;
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

/// The ending of a permitted read or write of one patient's data.
pub fn permit(patient: &str, d: &Decided, status: u16) -> Ending {
    let mut e = Ending::permit(Some(patient.to_string()), status, 1);
    if d.outcome.alert {
        e.reason = "ok-break-glass".into();
    }
    e.projection_age_ms = d.projection_age_ms;
    e
}

/// The refusal a denied decision answers: 403 with the decision's reason as the code.
pub fn denied(patient: &str, d: &Decided) -> Fail {
    Fail {
        error: ApiError::new(
            StatusCode::FORBIDDEN,
            d.outcome.reason,
            "no legitimate relationship permits this (or the record is sealed)",
        ),
        patient_id: Some(patient.to_string()),
    }
}
