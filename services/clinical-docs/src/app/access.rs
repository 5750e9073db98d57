//! The access decision on a patient's documents (ADR 13), from the access projection in the
//! use case's own transaction: the caller's relationships with the patient (clinical data),
//! break-glass, and each document's seal (`document:<id>`: sealed opens with break-glass and
//! an alert, sealed-and-locked never opens outside its nominees).
use super::Fail;
use crate::api::Authorized;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use tessera_access::decision::{decide, DataClass, Outcome, Request, Seal};
use tessera_access::projection::{PatientAccess, View};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

/// The seal item of a document.
pub fn item(document: Uuid) -> String {
    format!("document:{document}")
}

/// Whose decisions they are: what a decision needs of the caller, owned, so the work of an
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
            activity: auth.state.config.roles.document_activity.clone(),
        }
    }
}

/// One patient's decisions for one caller, the projection read once.
pub struct Decider {
    identity: tessera_access::Identity,
    owner: tessera_nhs::OdsCode,
    activity: String,
    view: View,
    patient: PatientAccess,
    now: DateTime<Utc>,
}

impl Decider {
    pub async fn load(who: &Who, txn: &DatabaseTransaction, patient: &str) -> Result<Self, Fail> {
        let now = Utc::now();
        let view = tessera_access::projection::load(
            txn,
            &who.identity,
            std::slice::from_ref(&patient.to_string()),
            now,
        )
        .await
        .map_err(|e| ApiError::database(&e))?;
        let pa = view.patient(patient);
        Ok(Self {
            identity: who.identity.clone(),
            owner: who.owner.clone(),
            activity: who.activity.clone(),
            view,
            patient: pa,
            now,
        })
    }

    fn decide_with(&self, seal: &Seal) -> Outcome {
        decide(&Request {
            who: &self.identity,
            teams: &self.view.teams,
            activity: &self.activity,
            owner: &self.owner,
            class: DataClass::Clinical,
            seal,
            relationships: &self.patient.relationships,
            break_glass: self.patient.break_glass.as_ref(),
            consent: self.patient.consent,
            now: self.now,
        })
    }

    /// The decision on the patient's record as a whole (no seal): creating, listing.
    pub fn patient(&self) -> Outcome {
        self.decide_with(&Seal::None)
    }

    /// The decision on one document, its seal included.
    pub fn document(&self, id: Uuid) -> Outcome {
        self.decide_with(self.patient.seal(&item(id)))
    }

    /// The patient's sealed documents: their ids as the seals name them.
    pub fn sealed(&self) -> Vec<Uuid> {
        self.patient
            .seals
            .keys()
            .filter_map(|k| k.strip_prefix("document:"))
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect()
    }

    pub fn age_ms(&self) -> Option<i64> {
        Some(self.view.age_ms.unwrap_or(-1))
    }
}

/// The ending of a permitted request about one patient (`Ending::decided`).
pub fn permit(patient: &str, outcome: &Outcome, d: &Decider, status: u16, n: i32) -> Ending {
    Ending::decided(patient, outcome, d.age_ms(), status, n)
}

/// The refusal a denied decision answers: 403 with the decision's reason as the code.
pub fn denied(patient: &str, outcome: &Outcome) -> Fail {
    Fail::denied(
        patient,
        outcome,
        "no legitimate relationship permits this, or the document is sealed",
    )
}
