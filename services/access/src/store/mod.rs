//! SQL per tenant schema. Every change that others must know of enqueues its event in the
//! same transaction (outbox). Patient ids and user ids only: no demographics live here.
mod alerts;
mod audit;
mod consent;
mod merges;
pub mod migration;
mod relationships;
mod rules;
mod teams;

pub use alerts::{
    acknowledge_alert, alert, alerts, annotate_alert, grant_break_glass, raise_alert, Alert,
    BreakGlassGrant, NewBreakGlass,
};
pub use audit::{
    append_audit, audit_links, count_audit, lock_audit_chain, search_audit, who_looked,
    AuditFilter, StoredAudit,
};
pub use consent::{
    consent_of, nominate, remove_seal, seals_of, set_seal, set_sharing, withdraw_directive, Seal,
    SealLevel,
};
pub use merges::{follow_merge, undo_merge};
pub use relationships::{
    end_by_source, end_relationship, grant_relationship, relationships_of, NewRelationship,
    Relationship,
};
pub use rules::{grace_days, rules, set_rule};
pub use teams::{set_members, teams, upsert_team, Team};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue, OutgoingEvent};
use tessera_tenancy::TenantId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("outbox: {0}")]
    Outbox(#[from] tessera_events::EventError),
    #[error("not found")]
    NotFound,
    #[error("{1}")]
    Conflict(tessera_edge::codes::ErrorCode, String),
    /// The patient referred to is not one of the trust's (`tessera_patients`).
    #[error(transparent)]
    Patient(#[from] tessera_patients::Refused),
    #[error("stored value unreadable: {0}")]
    Corrupt(String),
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Enqueues an access event on `tessera.<ods>.access.<stream>`.
pub(crate) async fn publish(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    stream: &str,
    key: &str,
    ce_type: &str,
    payload: Vec<u8>,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    enqueue(
        txn,
        OutgoingEvent {
            topic: tenant.topic("access", stream),
            key: key.to_string(),
            ce_type: ce_type.to_string(),
            source: "/tessera/access".into(),
            subject: Some(key.to_string()),
            payload,
            trace: trace.cloned(),
        },
    )
    .await?;
    Ok(())
}

/// [`publish`] without a trace: for the heartbeat.
pub(crate) async fn publish_raw(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    stream: &str,
    key: &str,
    ce_type: &str,
    payload: Vec<u8>,
) -> Result<(), StoreError> {
    publish(txn, tenant, stream, key, ce_type, payload, None).await
}
