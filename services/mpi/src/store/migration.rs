//! Tenant-schema migrations. Expand/contract only: a migration never breaks the version of
//! the service that runs beside it during a rolling update.
use sea_orm_migration::prelude::*;

pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_audit::CreateAuditLog),
            Box::new(CreatePatients),
        ]
    }
}

pub struct CreatePatients;

impl MigrationName for CreatePatients {
    fn name(&self) -> &str {
        "m20261122_000100_create_patients"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePatients {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE patient (
    id               uuid PRIMARY KEY,
    version          bigint NOT NULL,
    nhs_number       text,
    family_norm      text NOT NULL,
    given_norm       text[] NOT NULL DEFAULT '{}',
    birth_date       date NOT NULL,
    sex              text NOT NULL,
    postcode_norm    text,
    demographics     jsonb NOT NULL,
    idempotency_key  text UNIQUE,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX patient_nhs_number ON patient (nhs_number) WHERE nhs_number IS NOT NULL;
CREATE INDEX patient_dob_family ON patient (birth_date, family_norm text_pattern_ops);
CREATE INDEX patient_family ON patient (family_norm text_pattern_ops);
CREATE INDEX patient_postcode ON patient (postcode_norm) WHERE postcode_norm IS NOT NULL;

CREATE TABLE patient_local_number (
    assigner    text NOT NULL,
    value       text NOT NULL,
    patient_id  uuid NOT NULL REFERENCES patient (id),
    PRIMARY KEY (assigner, value)
);
CREATE INDEX patient_local_number_patient ON patient_local_number (patient_id);

CREATE TABLE patient_history (
    patient_id   uuid NOT NULL REFERENCES patient (id),
    version      bigint NOT NULL,
    demographics jsonb NOT NULL,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text NOT NULL,
    PRIMARY KEY (patient_id, version)
);

CREATE SEQUENCE local_number_seq START 1000001;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE patient_history; DROP TABLE patient_local_number; DROP TABLE patient; DROP SEQUENCE local_number_seq;")
            .await?;
        Ok(())
    }
}
