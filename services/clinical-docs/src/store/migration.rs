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
            Box::new(tessera_audit::AddProjectionAge),
            Box::new(tessera_audit::DropAuditLogPatientIndex),
            Box::new(tessera_patients::CreateKnownPatients),
            Box::new(tessera_access::projection::CreateAccessProjection),
            Box::new(tessera_patients::CreateMergeFollowing),
            Box::new(CreateDocuments),
            Box::new(tessera_access::projection::AddConsentTrusts),
        ]
    }
}

pub struct CreateDocuments;

impl MigrationName for CreateDocuments {
    fn name(&self) -> &str {
        "m20261207_001300_create_documents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateDocuments {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- The trust's document types (SNOMED CT record artefacts) and whether each needs a
-- countersignature before it is final.
CREATE TABLE document_type (
    code        text PRIMARY KEY,
    display     text NOT NULL,
    countersign boolean NOT NULL DEFAULT false
);
INSERT INTO document_type (code, display, countersign) VALUES
    ('371531000', 'Report of clinical encounter', false),
    ('373942005', 'Discharge summary', false),
    ('371532007', 'Progress report', false),
    ('1363501000000100', 'Royal College of Physicians NEWS2 (National Early Warning Score 2) chart', false);

-- A template version: never changed once saved; a change is the next version.
CREATE TABLE template (
    id         uuid PRIMARY KEY,
    code       text NOT NULL,
    version    int NOT NULL,
    doc_type   text NOT NULL REFERENCES document_type (code),
    definition jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (code, version)
);

-- A document: where it stands now. Its versions are document_version's rows, each kept
-- for ever; `version` is the newest, and moves only by compare-and-set (If-Match).
CREATE TABLE document (
    id            uuid PRIMARY KEY,
    patient_id    text NOT NULL,
    doc_type      text NOT NULL REFERENCES document_type (code),
    title         text NOT NULL,
    status        text NOT NULL CHECK (status IN ('draft', 'final', 'amended', 'entered-in-error')),
    version       int NOT NULL CHECK (version >= 1),
    context_kind  text CHECK (context_kind IN ('encounter', 'appointment', 'referral')),
    context_id    uuid,
    author_user   text NOT NULL,
    author_role   text NOT NULL,
    author_org    text NOT NULL,
    countersign   boolean NOT NULL,
    countersigner text,
    signed_by     text,
    signed_at     timestamptz,
    countersigned_by text,
    countersigned_at timestamptz,
    template_id   uuid REFERENCES template (id),
    source        text UNIQUE,
    -- A letter: the ODS code of the GP practice it goes to ('' when the patient has none
    -- the trust may know); rendered for sending when it becomes final.
    letter_to     text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    words         tsvector NOT NULL
);
CREATE INDEX document_patient ON document (patient_id, created_at DESC, id);
CREATE INDEX document_words ON document USING gin (words);

CREATE TABLE document_version (
    document_id  uuid NOT NULL REFERENCES document (id),
    version      int NOT NULL,
    action       text NOT NULL CHECK (action IN ('created', 'edited', 'signed', 'countersigned',
                   'amended', 'entered-in-error', 'section-signed', 'attached')),
    status       text NOT NULL,
    title        text NOT NULL,
    content_type text NOT NULL,
    content      bytea NOT NULL,
    sha256       text NOT NULL,
    by_user      text NOT NULL,
    by_role      text NOT NULL,
    by_org       text NOT NULL,
    reason       text,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- Nothing rewrites history: a version once written stays as it was.
CREATE FUNCTION document_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'document versions are never changed or deleted';
END $$;
CREATE TRIGGER document_version_immutable BEFORE UPDATE OR DELETE ON document_version
    FOR EACH ROW EXECUTE FUNCTION document_version_immutable();

-- Scanned or received content, held by its hash, tied to the document version it came with.
CREATE TABLE attachment (
    id           uuid PRIMARY KEY,
    document_id  uuid NOT NULL REFERENCES document (id),
    title        text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,
    content      bytea NOT NULL,
    -- The document's version that added it.
    version      int NOT NULL,
    by_user      text NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE TRIGGER attachment_immutable BEFORE UPDATE OR DELETE ON attachment
    FOR EACH ROW EXECUTE FUNCTION document_version_immutable();
CREATE INDEX attachment_document ON attachment (document_id);

-- A final letter's version rendered for sending (PDF), once per version.
CREATE TABLE rendering (
    document_id uuid NOT NULL REFERENCES document (id),
    version     int NOT NULL,
    pdf         bytea NOT NULL,
    sha256      text NOT NULL,
    rendered_at timestamptz NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- What a letter needs of the patient, from the MPI's patient events: the NHS number and
-- the registered GP practice (empty for a restricted patient: never published).
CREATE TABLE patient_detail (
    patient_id  text PRIMARY KEY,
    nhs_number  text NOT NULL DEFAULT '',
    gp_practice text NOT NULL DEFAULT '',
    version     bigint NOT NULL
);

-- Who is responsible for a spell now (from PAS's admissions and consultant changes): the
-- author of its discharge summary.
CREATE TABLE spell_consultant (
    spell_id   uuid PRIMARY KEY,
    patient_id text NOT NULL,
    consultant text NOT NULL
);

-- The trust's letter wording, by kind: `clinic-letter` (from an outpatient outcome) and
-- `discharge-summary` (from a discharge). Placeholders in braces.
CREATE TABLE letter_template (
    kind  text PRIMARY KEY CHECK (kind IN ('clinic-letter', 'discharge-summary')),
    title text NOT NULL,
    body  text NOT NULL
);
INSERT INTO letter_template (kind, title, body) VALUES
  ('clinic-letter', 'Outpatient clinic letter',
   E'Dear Colleague,\n\nYour patient (NHS number {nhs_number}) attended the {treatment_function} clinic on {date}.\n\nOutcome: {outcome}.\n\n[Findings and plan]\n\nYours sincerely,\n{clinician}'),
  ('discharge-summary', 'Discharge summary',
   E'Dear Colleague,\n\nYour patient (NHS number {nhs_number}) was discharged on {date}.\nDischarge method {discharge_method}; destination {discharge_destination}.\n\n[Diagnoses, treatment, medication on discharge, follow-up]\n\nYours sincerely,\n{clinician}');
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE letter_template, spell_consultant, patient_detail, rendering, attachment,
                   document_version, document, template, document_type;
                 DROP FUNCTION document_version_immutable();",
            )
            .await?;
        Ok(())
    }
}
