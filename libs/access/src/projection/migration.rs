//! The projection's tables in each tenant schema, created by every service that keeps one.
use sea_orm_migration::prelude::*;

/// The projection's tables; services list this in their tenant migrators.
pub struct CreateAccessProjection;

impl MigrationName for CreateAccessProjection {
    fn name(&self) -> &str {
        "m20261122_000300_create_access_projection"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAccessProjection {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE IF NOT EXISTS access_relationship (
    id         uuid PRIMARY KEY,
    patient_id text NOT NULL,
    user_id    text,
    team       text,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz,
    origin     text NOT NULL
);
CREATE INDEX IF NOT EXISTS access_relationship_patient ON access_relationship (patient_id);
CREATE TABLE IF NOT EXISTS access_break_glass (
    id         uuid PRIMARY KEY,
    patient_id text NOT NULL,
    user_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS access_break_glass_patient ON access_break_glass (patient_id, user_id);
CREATE TABLE IF NOT EXISTS access_team_member (
    team    text NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (team, user_id)
);
CREATE INDEX IF NOT EXISTS access_team_member_user ON access_team_member (user_id);
CREATE TABLE IF NOT EXISTS access_seal (
    patient_id text NOT NULL,
    item       text NOT NULL,
    level      text NOT NULL,
    users      text[] NOT NULL DEFAULT '{}',
    teams      text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (patient_id, item)
);
CREATE TABLE IF NOT EXISTS access_consent (
    patient_id text PRIMARY KEY,
    sharing    text NOT NULL
);
CREATE TABLE IF NOT EXISTS access_projection_state (
    id            int PRIMARY KEY,
    last_event_at timestamptz NOT NULL
);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS access_projection_state, access_consent, access_seal,
                 access_team_member, access_break_glass, access_relationship",
            )
            .await?;
        Ok(())
    }
}

/// The trusts a sharing permit names (`SharingConsentSet.trusts`); NULL: every trust.
pub struct AddConsentTrusts;

impl MigrationName for AddConsentTrusts {
    fn name(&self) -> &str {
        "m20261207_001410_access_consent_trusts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddConsentTrusts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE access_consent ADD COLUMN IF NOT EXISTS trusts text[]")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE access_consent DROP COLUMN IF EXISTS trusts")
            .await?;
        Ok(())
    }
}
