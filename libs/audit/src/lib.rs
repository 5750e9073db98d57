//! Audit. Every request that reads or writes patient data — permitted or denied — leaves one
//! record, written to the database before the response is sent (in the same transaction as
//! the change, for writes) and published through the outbox to `tessera.<ods>.audit.events`.
//! Requests whose token names no trustworthy tenant are recorded in the platform schema and
//! published to `tessera.platform.audit.events`.
//!
//! A record holds ids and codes, never demographics.
pub mod chain;

use chrono::{SecondsFormat, Utc};
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use sea_orm_migration::prelude::*;
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue_after, Before, OutgoingEvent};
use tessera_tenancy::TenantId;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Permit,
    Deny,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permit => "permit",
            Self::Deny => "deny",
            Self::Error => "error",
        }
    }
}

/// Who did what to whom, and how it ended.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub service: &'static str,
    /// `None` for requests that could not be attributed to a tenant.
    pub tenant: Option<TenantId>,
    pub user_id: String,
    pub role_code: String,
    pub organisation: String,
    pub patient_id: Option<String>,
    pub action: &'static str,
    pub outcome: Outcome,
    pub reason: String,
    pub status: u16,
    pub trace: Option<TraceContext>,
    pub result_count: i32,
    /// Age of the access projection the decision used, if one was consulted.
    pub projection_age_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("outbox: {0}")]
    Outbox(#[from] tessera_events::EventError),
}

pub const EVENT_TYPE: &str = "uk.nhs.tessera.audit.AuditRecord.v1";

/// Where records of requests that could not be attributed to a tenant are published.
pub const PLATFORM_TOPIC: &str = "tessera.platform.audit.events";

/// Writes `record` in `txn`, which must be scoped to the record's tenant schema (or the
/// platform schema when `tenant` is `None`), and enqueues its event.
pub async fn write(txn: &DatabaseTransaction, record: &AuditRecord) -> Result<Uuid, AuditError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let trace_id = record
        .trace
        .as_ref()
        .map(|t| t.trace_id())
        .unwrap_or_default();
    // The record and its event go in one statement: one round trip, not two (ADR 29).
    let before = Before {
        sql: "INSERT INTO audit_log (id, occurred_at, service, tenant, user_id, role_code, organisation,
                                patient_id, action, outcome, reason, status, trace_id, result_count,
                                projection_age_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        values: vec![
            id.into(),
            now.into(),
            record.service.into(),
            record
                .tenant
                .as_ref()
                .map(|t| t.as_str().to_string())
                .into(),
            record.user_id.clone().into(),
            record.role_code.clone().into(),
            record.organisation.clone().into(),
            record.patient_id.clone().into(),
            record.action.into(),
            record.outcome.as_str().into(),
            record.reason.clone().into(),
            i32::from(record.status).into(),
            trace_id.clone().into(),
            record.result_count.into(),
            record.projection_age_ms.into(),
        ],
    };
    let wire = tessera_proto::audit::v1::AuditRecord {
        id: id.to_string(),
        service: record.service.into(),
        tenant: record
            .tenant
            .as_ref()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        user_id: record.user_id.clone(),
        role_code: record.role_code.clone(),
        organisation: record.organisation.clone(),
        patient_id: record.patient_id.clone().unwrap_or_default(),
        action: record.action.into(),
        outcome: record.outcome.as_str().into(),
        reason: record.reason.clone(),
        status: i32::from(record.status),
        occurred_at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        trace_id,
        result_count: record.result_count,
        projection_age_ms: record.projection_age_ms.unwrap_or_default(),
    };
    let topic = match &record.tenant {
        Some(t) => t.topic("audit", "events"),
        None => PLATFORM_TOPIC.to_string(),
    };
    enqueue_after(
        txn,
        Some(before),
        OutgoingEvent {
            topic,
            key: record
                .patient_id
                .clone()
                .unwrap_or_else(|| record.user_id.clone()),
            ce_type: EVENT_TYPE.into(),
            source: format!("/tessera/{}", record.service),
            subject: record.patient_id.clone(),
            payload: wire.encode_to_vec(),
            trace: record.trace.clone(),
        },
    )
    .await?;
    Ok(id)
}

/// The `audit_log` table; services list it in their tenant and platform migrators.
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m20261122_000001_create_audit_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE IF NOT EXISTS audit_log (
    id           uuid PRIMARY KEY,
    occurred_at  timestamptz NOT NULL,
    service      text NOT NULL,
    tenant       text,
    user_id      text NOT NULL,
    role_code    text NOT NULL,
    organisation text NOT NULL,
    patient_id   text,
    action       text NOT NULL,
    outcome      text NOT NULL,
    reason       text NOT NULL,
    status       int NOT NULL,
    trace_id     text NOT NULL,
    result_count int NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS audit_log_patient ON audit_log (patient_id, occurred_at);
CREATE INDEX IF NOT EXISTS audit_log_trace ON audit_log (trace_id);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS audit_log")
            .await?;
        Ok(())
    }
}

/// Adds the access projection's age to `audit_log` (issue 4).
pub struct AddProjectionAge;

impl MigrationName for AddProjectionAge {
    fn name(&self) -> &str {
        "m20261122_000002_audit_log_projection_age"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddProjectionAge {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS projection_age_ms bigint",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE audit_log DROP COLUMN IF EXISTS projection_age_ms")
            .await?;
        Ok(())
    }
}

/// Drops `audit_log`'s index by patient: nothing reads a service's own copy by patient ("who
/// looked" is the audit store's), and every audited request paid for it (ADR 29). The index
/// by trace id stays, for reconstruction (docs/runbooks/privacy-officer-and-audit.md).
pub struct DropAuditLogPatientIndex;

impl MigrationName for DropAuditLogPatientIndex {
    fn name(&self) -> &str {
        "m20261126_000002_audit_log_without_patient_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DropAuditLogPatientIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS audit_log_patient")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS audit_log_patient ON audit_log (patient_id, occurred_at)",
            )
            .await?;
        Ok(())
    }
}

/// Migrator for the platform schema: the outbox, the audit log of unattributed requests, and
/// the tenants this service has learnt of (ADR 19).
pub struct PlatformMigrator;

impl MigratorTrait for PlatformMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_events::migration::InboxPerConsumer),
            Box::new(CreateAuditLog),
            Box::new(AddProjectionAge),
            Box::new(tessera_tenancy::store::CreateTenantRegistry),
            Box::new(DropAuditLogPatientIndex),
        ]
    }
}
