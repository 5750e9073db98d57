//! Migrations. Each trust's schema holds that trust's projections (fed by its own topics) and
//! the usual outbox, inbox, audit log and access projection; schema `region` holds the one
//! thing that is regional by nature: which trusts' patient records are one person. Expand and
//! contract only: a migration never breaks the version that runs beside it.
use sea_orm_migration::prelude::*;

/// The schema of the regional index.
pub const REGION_SCHEMA: &str = "region";

pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_events::migration::InboxPerConsumer),
            Box::new(tessera_audit::CreateAuditLog),
            Box::new(tessera_audit::AddProjectionAge),
            Box::new(tessera_audit::DropAuditLogPatientIndex),
            Box::new(tessera_patients::CreateKnownPatients),
            Box::new(tessera_access::projection::CreateAccessProjection),
            Box::new(tessera_access::projection::AddConsentTrusts),
            Box::new(tessera_patients::CreateMergeFollowing),
            Box::new(CreateProjections),
        ]
    }
}

pub struct CreateProjections;

impl MigrationName for CreateProjections {
    fn name(&self) -> &str {
        "m20261207_001400_create_regional_projections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateProjections {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- The trust's patients as its MPI published them (the newest version): what the summary
-- shows of who they are, and what the matcher compares. Restricted patients' addresses and
-- GP practice are never published, so never here.
CREATE TABLE reg_patient (
    patient_id   text PRIMARY KEY,
    version      bigint NOT NULL,
    nhs_number   text,
    nhs_verified boolean NOT NULL DEFAULT false,
    family       text,
    given        text,
    birth_date   date,
    sex          text,
    postcode     text,
    address      text,
    gp_practice  text,
    restricted   boolean NOT NULL DEFAULT false,
    -- Merged away into this survivor (the MPI's merge); NULL while live.
    merged_into  text,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX reg_patient_birth ON reg_patient (birth_date) WHERE merged_into IS NULL;

CREATE TABLE reg_referral (
    id                 uuid PRIMARY KEY,
    patient_id         text NOT NULL,
    ubrn               text,
    priority           text,
    specialty          text,
    treatment_function text,
    team               text,
    state              text NOT NULL,
    received_on        date,
    pathway_id         uuid,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX reg_referral_patient ON reg_referral (patient_id);

-- An RTT pathway's clock, as the referrals service last published it.
CREATE TABLE reg_pathway (
    id                 uuid PRIMARY KEY,
    patient_id         text NOT NULL,
    treatment_function text,
    clock              text NOT NULL,
    clock_start        date,
    clock_stop         date,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX reg_pathway_patient ON reg_pathway (patient_id);

CREATE TABLE reg_appointment (
    id                 uuid PRIMARY KEY,
    patient_id         text NOT NULL,
    starts_at          timestamptz,
    ends_at            timestamptz,
    treatment_function text,
    team               text,
    clinician          text,
    referral_id        text,
    status             text NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX reg_appointment_patient ON reg_appointment (patient_id);

-- A hospital spell.
CREATE TABLE reg_encounter (
    id               uuid PRIMARY KEY,
    patient_id       text NOT NULL,
    admitted_at      timestamptz,
    ward_team        text,
    ward             text,
    consultant       text,
    purpose          text,
    discharged_at    timestamptz,
    discharge_method text,
    status           text NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX reg_encounter_patient ON reg_encounter (patient_id);

CREATE TABLE reg_document (
    id         uuid PRIMARY KEY,
    patient_id text NOT NULL,
    type_code  text NOT NULL,
    title      text NOT NULL DEFAULT '',
    author     text NOT NULL,
    status     text NOT NULL,
    version    int NOT NULL,
    created_at timestamptz NOT NULL,
    signed_at  timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX reg_document_patient ON reg_document (patient_id);

-- The content of a document's newest signed version (clinical-docs.shared), shown on request.
CREATE TABLE reg_document_content (
    document_id  uuid PRIMARY KEY,
    patient_id   text NOT NULL,
    version      int NOT NULL,
    content_type text NOT NULL,
    content      bytea NOT NULL,
    sha256       text NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- Each record's part of a summary, as the summary shows it (JSON), rebuilt from the tables
-- above in the transaction of every event that changes them: a summary reads one row per
-- record instead of joining five tables.
CREATE TABLE reg_part (
    patient_id text PRIMARY KEY,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- When each of the trust's streams last told this service anything: the freshness every
-- line of the summary carries.
CREATE TABLE reg_feed (
    stream        text PRIMARY KEY,
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
                "DROP TABLE reg_document_content, reg_part, reg_feed, reg_document, reg_encounter, reg_appointment, reg_pathway,
                   reg_referral, reg_patient",
            )
            .await?;
        Ok(())
    }
}

/// The regional index, in schema `region`.
pub struct RegionMigrator;

impl MigratorTrait for RegionMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateRegionalIndex)]
    }
}

pub struct CreateRegionalIndex;

impl MigrationName for CreateRegionalIndex {
    fn name(&self) -> &str {
        "m20261207_001500_create_regional_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRegionalIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- One trust's patient record, and the regional person it is. Ids and how it was linked
-- only: the record's demographics stay in its trust's schema.
CREATE TABLE region.member (
    tenant     text NOT NULL,
    patient_id text NOT NULL,
    person_id  uuid NOT NULL,
    -- `first` (nobody else yet), `nhs-number` (a verified NHS number another trust's record
    -- also has), `review` (a reviewer confirmed the matcher's proposal).
    linked_by  text NOT NULL CHECK (linked_by IN ('first', 'nhs-number', 'review')),
    -- The verified NHS number it was linked by, if any.
    nhs_number text,
    linked_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, patient_id)
);
CREATE INDEX member_person ON region.member (person_id);
CREATE INDEX member_nhs ON region.member (nhs_number) WHERE nhs_number IS NOT NULL;

-- Members a merge in a trust moved from another person into the survivor's, so its unmerge
-- can move them back.
CREATE TABLE region.merge_move (
    merge_id    text NOT NULL,
    tenant      text NOT NULL,
    patient_id  text NOT NULL,
    from_person uuid NOT NULL,
    PRIMARY KEY (merge_id, tenant, patient_id)
);

-- The matcher's proposal that records in two trusts are one person, for a person to decide.
CREATE TABLE region.link_review (
    id          uuid PRIMARY KEY,
    a_tenant    text NOT NULL,
    a_patient   text NOT NULL,
    b_tenant    text NOT NULL,
    b_patient   text NOT NULL,
    score       double precision NOT NULL,
    -- Each field's level and weight (never the values).
    explanation jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'rejected')),
    raised_at   timestamptz NOT NULL,
    decided_by  text,
    decided_org text,
    decided_at  timestamptz,
    UNIQUE (a_tenant, a_patient, b_tenant, b_patient)
);
CREATE INDEX link_review_a ON region.link_review (a_tenant, status);
CREATE INDEX link_review_b ON region.link_review (b_tenant, status);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE region.link_review, region.merge_move, region.member")
            .await?;
        Ok(())
    }
}
