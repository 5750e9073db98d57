//! A caller allowed to act, and the audit record it owes: [`Authorized`] writes it (in the
//! request's own transaction, or on its own after a refusal), [`Ending`] says how the request
//! ended.
use super::HasGate;
use crate::problem::{ApiError, Flavour};
use actix_web::web;
use sea_orm::DatabaseTransaction;
use tessera_access::Identity;
use tessera_audit::{AuditRecord, Outcome};
use tessera_bootstrap::TraceContext;
use tessera_tenancy::TenantId;

/// A caller allowed to do `action`. Holding one means an audit record is still owed.
pub struct Authorized<S> {
    pub state: web::Data<S>,
    pub tenant: TenantId,
    pub identity: Identity,
    pub trace: TraceContext,
    pub action: &'static str,
    pub flavour: Flavour,
}

/// How a request ended, for its audit record.
pub struct Ending {
    pub patient_id: Option<String>,
    pub outcome: Outcome,
    pub reason: String,
    pub status: u16,
    pub result_count: i32,
    /// Age of the access projection the decision used.
    pub projection_age_ms: Option<i64>,
}

impl Ending {
    pub fn permit(patient_id: Option<String>, status: u16, result_count: i32) -> Self {
        Self {
            patient_id,
            outcome: Outcome::Permit,
            reason: "ok".into(),
            status,
            result_count,
            projection_age_ms: None,
        }
    }

    /// A permitted request about one patient, as the access decision permitted it: marked
    /// `ok-break-glass` when it took break-glass, with the age of the projection it read.
    pub fn decided(
        patient_id: &str,
        outcome: &tessera_access::decision::Outcome,
        projection_age_ms: Option<i64>,
        status: u16,
        result_count: i32,
    ) -> Self {
        let mut e = Self::permit(Some(patient_id.to_string()), status, result_count);
        if outcome.alert {
            e.reason = "ok-break-glass".into();
        }
        e.projection_age_ms = projection_age_ms;
        e
    }

    pub fn from_error(patient_id: Option<String>, e: &ApiError) -> Self {
        Self {
            patient_id,
            outcome: if e.status.is_server_error() {
                Outcome::Error
            } else {
                Outcome::Deny
            },
            reason: e.code.to_string(),
            status: e.status.as_u16(),
            result_count: 0,
            projection_age_ms: None,
        }
    }
}

impl<S: HasGate> Authorized<S> {
    /// A system caller: an interface (HL7 feed) bound to one trust by its connection, not a
    /// person with a token. Audited under `user_id`, with job role `system`.
    pub fn system(
        state: web::Data<S>,
        tenant: TenantId,
        user_id: String,
        activities: &[&str],
        action: &'static str,
        trace: TraceContext,
    ) -> Self {
        let activities = tessera_access::expand_activities(
            activities
                .iter()
                .filter_map(|a| tessera_access::Activity::parse(a)),
        );
        Self {
            state,
            identity: Identity {
                user_id,
                session_id: String::new(),
                expires_at: i64::MAX,
                role: tessera_access::SelectedRole {
                    person_role_id: String::new(),
                    organisation: tenant.ods().clone(),
                    job_role: "system".into(),
                    activities,
                    workgroups: Vec::new(),
                },
            },
            tenant,
            trace,
            action,
            flavour: Flavour::Json,
        }
    }

    fn record(&self, ending: Ending) -> AuditRecord {
        AuditRecord {
            service: self.state.gate().service,
            tenant: Some(self.tenant.clone()),
            user_id: self.identity.user_id.clone(),
            role_code: self.identity.role.job_role.clone(),
            organisation: self.identity.role.organisation.to_string(),
            patient_id: ending.patient_id,
            action: self.action,
            outcome: ending.outcome,
            reason: ending.reason,
            status: ending.status,
            trace: Some(self.trace.clone()),
            result_count: ending.result_count,
            projection_age_ms: ending.projection_age_ms,
        }
    }

    /// Writes the audit record inside `txn` (a write's own transaction).
    pub async fn audit_in(
        &self,
        txn: &DatabaseTransaction,
        ending: Ending,
    ) -> Result<(), ApiError> {
        tessera_audit::write(txn, &self.record(ending))
            .await
            .map_err(|e| {
                match &e {
                    tessera_audit::AuditError::Db(d) => ApiError::database(d),
                    other => ApiError::internal(other),
                }
                .with_flavour(self.flavour)
            })?;
        Ok(())
    }

    /// Writes the audit record in a transaction of its own, committed before returning.
    pub async fn audit(&self, ending: Ending) -> Result<(), ApiError> {
        let txn = self.state.gate().db.begin(&self.tenant).await.map_err(
            |tessera_tenancy::DbError::Db(e)| ApiError::database(&e).with_flavour(self.flavour),
        )?;
        self.audit_in(&txn, ending).await?;
        txn.commit()
            .await
            .map_err(|e| ApiError::database(&e).with_flavour(self.flavour))?;
        self.state.gate().relay.notify_one();
        Ok(())
    }

    pub async fn begin(&self) -> Result<DatabaseTransaction, ApiError> {
        self.state
            .gate()
            .db
            .begin(&self.tenant)
            .await
            .map_err(|tessera_tenancy::DbError::Db(e)| {
                ApiError::database(&e).with_flavour(self.flavour)
            })
    }

    /// Scope for idempotency keys: the same key from another trust or user is another key.
    pub fn idempotency_scope(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.state.gate().service,
            self.tenant,
            self.identity.user_id,
            self.action
        )
    }
}
