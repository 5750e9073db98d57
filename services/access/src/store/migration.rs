//! Tenant-schema migrations. Expand/contract only.
use sea_orm_migration::prelude::*;

pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_events::migration::InboxPerConsumer),
            Box::new(tessera_audit::CreateAuditLog),
            Box::new(tessera_audit::AddProjectionAge),
            Box::new(tessera_patients::CreateKnownPatients),
            Box::new(CreateAccess),
            Box::new(tessera_audit::DropAuditLogPatientIndex),
            Box::new(SharingWithNamedTrusts),
        ]
    }
}

pub struct CreateAccess;

impl MigrationName for CreateAccess {
    fn name(&self) -> &str {
        "m20261122_000400_create_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAccess {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE IF NOT EXISTS team (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS team_member (
    team    text NOT NULL REFERENCES team (code),
    user_id text NOT NULL,
    PRIMARY KEY (team, user_id)
);
CREATE TABLE IF NOT EXISTS relationship (
    id            uuid PRIMARY KEY,
    patient_id    text NOT NULL,
    user_id       text,
    team          text,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz,
    origin        text NOT NULL,
    reason_code   text,
    justification text,
    source        text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    ended_reason  text,
    CHECK ((user_id IS NULL) <> (team IS NULL))
);
CREATE INDEX IF NOT EXISTS relationship_patient ON relationship (patient_id);
CREATE INDEX IF NOT EXISTS relationship_source ON relationship (source);
CREATE TABLE IF NOT EXISTS relationship_rule (
    origin     text PRIMARY KEY,
    grace_days int NOT NULL CHECK (grace_days >= 0)
);
CREATE TABLE IF NOT EXISTS break_glass (
    id            uuid PRIMARY KEY,
    patient_id    text NOT NULL,
    user_id       text NOT NULL,
    role_code     text NOT NULL,
    reason_code   text NOT NULL,
    justification text NOT NULL,
    granted_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS break_glass_patient ON break_glass (patient_id);
CREATE TABLE IF NOT EXISTS alert (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL,
    grant_id        uuid NOT NULL,
    patient_id      text NOT NULL,
    user_id         text NOT NULL,
    role_code       text NOT NULL,
    reason_code     text NOT NULL,
    justification   text NOT NULL,
    raised_at       timestamptz NOT NULL,
    expires_at      timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE INDEX IF NOT EXISTS alert_open ON alert (raised_at) WHERE acknowledged_at IS NULL;
CREATE TABLE IF NOT EXISTS alert_note (
    id       bigserial PRIMARY KEY,
    alert_id uuid NOT NULL REFERENCES alert (id),
    author   text NOT NULL,
    note     text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS consent_directive (
    id           uuid PRIMARY KEY,
    patient_id   text NOT NULL,
    kind         text NOT NULL,
    sharing      text,
    item         text,
    level        text,
    users        text[] NOT NULL DEFAULT '{}',
    teams        text[] NOT NULL DEFAULT '{}',
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz
);
CREATE INDEX IF NOT EXISTS consent_directive_patient ON consent_directive (patient_id);
CREATE TABLE IF NOT EXISTS seal (
    patient_id   text NOT NULL,
    item         text NOT NULL,
    level        text NOT NULL,
    users        text[] NOT NULL DEFAULT '{}',
    teams        text[] NOT NULL DEFAULT '{}',
    directive_id uuid,
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, item)
);
CREATE TABLE IF NOT EXISTS sharing_consent (
    patient_id  text PRIMARY KEY,
    sharing     text NOT NULL,
    recorded_at timestamptz NOT NULL
);
-- The audit store: every service's audit records for this trust, hash-chained in `seq`
-- order (libs/audit::chain). Append-only: the trigger refuses updates and deletes, so
-- changing it needs a superuser who drops the trigger, and verify then says what changed.
CREATE TABLE IF NOT EXISTS audit_store (
    seq         bigint PRIMARY KEY,
    event_id    text NOT NULL UNIQUE,
    payload     bytea NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    occurred_at timestamptz NOT NULL,
    service     text NOT NULL,
    user_id     text NOT NULL,
    role_code   text NOT NULL,
    patient_id  text,
    action      text NOT NULL,
    outcome     text NOT NULL,
    reason      text NOT NULL,
    status      int NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_store_patient ON audit_store (patient_id, occurred_at);
CREATE INDEX IF NOT EXISTS audit_store_user ON audit_store (user_id, occurred_at);
CREATE INDEX IF NOT EXISTS audit_store_time ON audit_store (occurred_at);
CREATE OR REPLACE FUNCTION audit_store_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_store is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_store_append_only ON audit_store;
CREATE TRIGGER audit_store_append_only BEFORE UPDATE OR DELETE ON audit_store
    FOR EACH ROW EXECUTE FUNCTION audit_store_append_only();
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS audit_store, sharing_consent, seal, consent_directive,
                 alert_note, alert, break_glass, relationship_rule, relationship, team_member,
                 team CASCADE",
            )
            .await?;
        Ok(())
    }
}

/// A sharing permit may name the trusts it lets see the record (NULL: every trust); the audit
/// store keeps each record's organisation (a regional read names another trust's).
pub struct SharingWithNamedTrusts;

impl MigrationName for SharingWithNamedTrusts {
    fn name(&self) -> &str {
        "m20261207_001420_sharing_with_named_trusts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SharingWithNamedTrusts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE consent_directive ADD COLUMN IF NOT EXISTS trusts text[];
                 ALTER TABLE sharing_consent ADD COLUMN IF NOT EXISTS trusts text[];
                 ALTER TABLE audit_store ADD COLUMN IF NOT EXISTS organisation text;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE consent_directive DROP COLUMN IF EXISTS trusts;
                 ALTER TABLE sharing_consent DROP COLUMN IF EXISTS trusts;
                 ALTER TABLE audit_store DROP COLUMN IF EXISTS organisation;",
            )
            .await?;
        Ok(())
    }
}
