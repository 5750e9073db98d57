//! Tenant-schema migrations. Expand/contract only: a migration never breaks the version of
//! the service that runs beside it during a rolling update.
use sea_orm_migration::prelude::*;

pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_events::migration::InboxPerConsumer),
            Box::new(tessera_audit::CreateAuditLog),
            Box::new(CreatePatients),
            Box::new(CreateMergesAndReviews),
            Box::new(tessera_audit::AddProjectionAge),
            Box::new(tessera_access::projection::CreateAccessProjection),
            Box::new(SearchInNameOrder),
            Box::new(tessera_audit::DropAuditLogPatientIndex),
            Box::new(tessera_access::projection::AddConsentTrusts),
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

/// Merges, unmerges and the possible-match review queue. Expand only: the columns it adds
/// have defaults, so the version before it keeps working during a rolling update.
pub struct CreateMergesAndReviews;

impl MigrationName for CreateMergesAndReviews {
    fn name(&self) -> &str {
        "m20261122_000200_create_merges_and_reviews"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateMergesAndReviews {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
ALTER TABLE patient ADD COLUMN merged_into uuid REFERENCES patient (id);
ALTER TABLE patient ADD COLUMN replaces jsonb NOT NULL DEFAULT '[]';
-- A merged-away record keeps its NHS number (so the number still finds the survivor);
-- only active records must hold one each.
DROP INDEX patient_nhs_number;
CREATE UNIQUE INDEX patient_nhs_number_active ON patient (nhs_number)
    WHERE nhs_number IS NOT NULL AND merged_into IS NULL;
CREATE INDEX patient_nhs_number_any ON patient (nhs_number) WHERE nhs_number IS NOT NULL;
CREATE INDEX patient_merged_into ON patient (merged_into) WHERE merged_into IS NOT NULL;
-- Matching's "family name starts the same, born the same year" block, as one index range
-- (the family-name index alone fetched every row with the prefix, then filtered by year).
CREATE INDEX patient_family3_dob ON patient (left(family_norm, 3), birth_date);

CREATE TABLE patient_merge (
    id                    uuid PRIMARY KEY,
    survivor_id           uuid NOT NULL REFERENCES patient (id),
    merged_id             uuid NOT NULL REFERENCES patient (id),
    -- What the merge gave the survivor, so an unmerge takes back exactly that.
    moved_local_numbers   jsonb NOT NULL,
    nhs_number_taken      boolean NOT NULL,
    survivor_status_before text,
    merged_at             timestamptz NOT NULL,
    merged_by             text NOT NULL,
    review_id             uuid,
    unmerged_at           timestamptz,
    unmerged_by           text
);
CREATE INDEX patient_merge_merged ON patient_merge (merged_id);
-- At most one merge in force per merged-away record.
CREATE UNIQUE INDEX patient_merge_active ON patient_merge (merged_id) WHERE unmerged_at IS NULL;

CREATE TABLE match_review (
    id            uuid PRIMARY KEY,
    -- The pair, smaller id first: a pair is one row whoever found it.
    patient_low   uuid NOT NULL REFERENCES patient (id),
    patient_high  uuid NOT NULL REFERENCES patient (id),
    score         double precision NOT NULL,
    grade         text NOT NULL,
    explanation   jsonb NOT NULL,
    status        text NOT NULL CHECK (status IN ('open', 'confirmed', 'rejected')),
    found_at      timestamptz NOT NULL,
    decided_at    timestamptz,
    decided_by    text,
    reason        text,
    merge_id      uuid,
    UNIQUE (patient_low, patient_high),
    CHECK (patient_low < patient_high)
);
CREATE INDEX match_review_open ON match_review (found_at) WHERE status = 'open';

-- HL7 v2 messages applied, by sender and MSH-10, with the ACK they got: a resend gets the
-- same ACK and is not applied twice.
CREATE TABLE hl7_message (
    sender      text NOT NULL,
    control_id  text NOT NULL,
    ack         text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (sender, control_id)
);

CREATE TABLE match_settings (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    model         jsonb NOT NULL,
    trained_on    bigint NOT NULL,
    trained_at    timestamptz NOT NULL,
    -- Merge a new registration into an existing record when they score `match` (off: every
    -- pair goes to the review queue).
    auto_link     boolean NOT NULL DEFAULT false
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
                "DROP TABLE hl7_message; DROP TABLE match_settings; DROP TABLE match_review; DROP TABLE patient_merge;
                 DROP INDEX patient_family3_dob; DROP INDEX patient_merged_into; DROP INDEX patient_nhs_number_any;
                 DROP INDEX patient_nhs_number_active;
                 ALTER TABLE patient DROP COLUMN replaces; ALTER TABLE patient DROP COLUMN merged_into;
                 CREATE UNIQUE INDEX patient_nhs_number ON patient (nhs_number) WHERE nhs_number IS NOT NULL;",
            )
            .await?;
        Ok(())
    }
}

/// Demographic search walks its matches in the order it answers them (ADR 29): live records
/// by family name (byte order), birth date and id, so a page is read from the index instead
/// of sorting every match. Expand only: the version before it searches as it did.
pub struct SearchInNameOrder;

impl MigrationName for SearchInNameOrder {
    fn name(&self) -> &str {
        "m20261126_000100_search_in_name_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SearchInNameOrder {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"CREATE INDEX IF NOT EXISTS patient_name_order
                     ON patient (family_norm COLLATE "C", birth_date, id) WHERE merged_into IS NULL"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS patient_name_order")
            .await?;
        Ok(())
    }
}
