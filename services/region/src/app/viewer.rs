//! What every decision about one viewer needs, shared by the summary and the document
//! content: the viewer and their relationships in their own trust; consent and seals from
//! another trust's projection; the audit record that trust keeps of the read.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use tessera_access::decision::{decide, DataClass, Outcome, Request, Seal, SharingConsent};
use tessera_access::projection::{PatientAccess, View};
use tessera_access::Identity;
use tessera_audit::AuditRecord;
use tessera_bootstrap::TraceContext;
use tessera_tenancy::{TenantId, TenantRegistry};

/// What every decision of one request needs: the viewer, and their relationships with their
/// own trust's patient (the rule: a relationship in the viewer's own trust).
pub(crate) struct Viewer {
    pub identity: Identity,
    pub activity: String,
    pub teams: Vec<String>,
    pub mine: PatientAccess,
    pub now: DateTime<Utc>,
    pub trace: TraceContext,
}

impl Viewer {
    /// The viewer of `patient` in `tenant` (the request's transaction), with the age of the
    /// projection read.
    pub async fn load(
        txn: &DatabaseTransaction,
        tenant: &TenantId,
        identity: Identity,
        activity: String,
        trace: TraceContext,
        patient: &str,
    ) -> Result<(Self, Option<i64>), DbErr> {
        let now = Utc::now();
        let view = tessera_access::projection::load_in(
            txn,
            tenant,
            &identity,
            &[patient.to_string()],
            now,
        )
        .await?;
        let viewer = Self {
            identity,
            activity,
            teams: view.teams.clone(),
            mine: view.patient(patient),
            now,
            trace,
        };
        Ok((viewer, view.age_ms))
    }

    pub fn decide(&self, owner: &TenantId, consent: SharingConsent, seal: &Seal) -> Outcome {
        decide(&Request {
            who: &self.identity,
            teams: &self.teams,
            activity: &self.activity,
            owner: owner.ods(),
            class: DataClass::Clinical,
            seal,
            relationships: &self.mine.relationships,
            break_glass: self.mine.break_glass.as_ref(),
            consent,
            now: self.now,
        })
    }
}

/// Consent from any of the trust's records of the person: one forbid forbids; otherwise one
/// permit for the viewer's trust permits.
pub(crate) fn consent_of(view: &View, ids: &[String]) -> (SharingConsent, PatientAccess) {
    let mut merged = PatientAccess::default();
    let mut consent = SharingConsent::None;
    for id in ids {
        let p = view.patient(id);
        match p.consent {
            SharingConsent::Forbidden => consent = SharingConsent::Forbidden,
            SharingConsent::Permitted if consent == SharingConsent::None => {
                consent = SharingConsent::Permitted
            }
            _ => {}
        }
        merged.seals.extend(p.seals);
    }
    (consent, merged)
}

/// Scopes the rest of `txn` (or of its savepoint) to `trust`'s schema.
pub(crate) async fn in_schema<C: ConnectionTrait>(
    txn: &C,
    trust: &TenantId,
) -> Result<(), sea_orm::DbErr> {
    txn.execute_unprepared(&format!("SET LOCAL search_path TO \"{}\"", trust.schema()))
        .await
        .map(|_| ())
}

/// The record the other trust keeps of its patient's data being read (or refused) by
/// another trust's user: their user, role and organisation, the decision, how many items.
pub(crate) fn shared_record(
    v: &Viewer,
    action: &'static str,
    trust: &TenantId,
    patient: &str,
    outcome: &Outcome,
    shown: i32,
    age: Option<i64>,
) -> AuditRecord {
    AuditRecord {
        service: "region",
        tenant: Some(trust.clone()),
        user_id: v.identity.user_id.clone(),
        role_code: v.identity.role.job_role.clone(),
        organisation: v.identity.role.organisation.to_string(),
        patient_id: Some(patient.to_string()),
        action,
        outcome: if outcome.permit {
            tessera_audit::Outcome::Permit
        } else {
            tessera_audit::Outcome::Deny
        },
        reason: if outcome.alert {
            "ok-break-glass".into()
        } else {
            outcome.reason.into()
        },
        status: if outcome.permit { 200 } else { 403 },
        trace: Some(v.trace.clone()),
        result_count: shown,
        projection_age_ms: Some(age.unwrap_or(-1)),
    }
}

/// Another trust holding a record of the viewer's patient: its ids of the person and how
/// they were linked.
pub(crate) struct Holder {
    pub trust: TenantId,
    pub ids: Vec<String>,
    pub linked_by: String,
}

/// The person `patient` of `viewer`'s trust is, and the other trusts this deployment serves
/// that hold a record of them.
pub(crate) async fn holders(
    txn: &DatabaseTransaction,
    viewer: &TenantId,
    patient: &str,
    registry: &TenantRegistry,
) -> Result<(Option<uuid::Uuid>, Vec<Holder>), DbErr> {
    let (person, members) =
        crate::store::index::person_and_members(txn, viewer.as_str(), patient).await?;
    let mut out: Vec<Holder> = Vec::new();
    for m in members {
        let Ok(t) = TenantId::parse(&m.tenant) else {
            continue;
        };
        if &t == viewer || !registry.is_ready(&t) {
            continue;
        }
        match out.iter_mut().find(|h| h.trust == t) {
            Some(h) => h.ids.push(m.patient_id),
            None => out.push(Holder {
                trust: t,
                ids: vec![m.patient_id],
                linked_by: m.linked_by,
            }),
        }
    }
    Ok((person, out))
}
