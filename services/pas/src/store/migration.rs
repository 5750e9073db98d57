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
            Box::new(CreatePas),
            Box::new(AdmittedWaitingList),
            Box::new(AdtFeed),
            Box::new(tessera_patients::CreateMergeFollowing),
            Box::new(LeaveOfAbsence),
        ]
    }
}

pub struct CreatePas;

impl MigrationName for CreatePas {
    fn name(&self) -> &str {
        "m20261207_000900_create_pas"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePas {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE ward (
    id         uuid PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    name       text NOT NULL,
    site       text NOT NULL,
    team       text NOT NULL,
    created_at timestamptz NOT NULL
);

-- A bed's own state; whether it is occupied follows from an open stay in it.
CREATE TABLE bed (
    id      uuid PRIMARY KEY,
    ward_id uuid NOT NULL REFERENCES ward (id),
    code    text NOT NULL,
    bay     text,
    state   text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'closed', 'cleaning')),
    UNIQUE (ward_id, code)
);

-- A hospital provider spell: an admission to its discharge. One open spell per patient.
CREATE TABLE spell (
    id                    uuid PRIMARY KEY,
    spell_number          bigserial UNIQUE,
    patient_id            text NOT NULL,
    status                text NOT NULL CHECK (status IN ('admitted', 'discharged', 'cancelled')),
    -- The ward the patient is on (with or without a bed on it).
    ward_id               uuid NOT NULL REFERENCES ward (id),
    admission_method      text NOT NULL,
    admission_source      text NOT NULL,
    intended_management   text NOT NULL,
    admission_purpose     text,
    referral_id           uuid,
    ppid                  text,
    ppid_issuer           text,
    commissioner          text,
    admitted_at           timestamptz NOT NULL,
    discharged_at         timestamptz,
    discharge_method      text,
    discharge_destination text,
    idempotency_key       text UNIQUE,
    version               bigint NOT NULL DEFAULT 1,
    created_by            text NOT NULL,
    updated_at            timestamptz NOT NULL,
    CHECK (discharged_at IS NULL OR discharged_at >= admitted_at)
);
CREATE UNIQUE INDEX spell_one_open_per_patient ON spell (patient_id) WHERE status = 'admitted';
CREATE INDEX spell_patient ON spell (patient_id);
CREATE INDEX spell_discharged ON spell (discharged_at) WHERE status = 'discharged';

-- Consultant episodes: continuous care under one consultant. At most one open per spell,
-- and each starts where the one before ended, so they never overlap.
CREATE TABLE episode (
    id                 uuid PRIMARY KEY,
    spell_id           uuid NOT NULL REFERENCES spell (id),
    seq                int NOT NULL,
    consultant         text NOT NULL,
    treatment_function text NOT NULL,
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz,
    cancelled_at       timestamptz,
    UNIQUE (spell_id, seq),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX episode_one_open ON episode (spell_id)
    WHERE ended_at IS NULL AND cancelled_at IS NULL;

-- Who was in which bed when. The database's last word on a bed: one open stay in it.
CREATE TABLE bed_stay (
    id           uuid PRIMARY KEY,
    spell_id     uuid NOT NULL REFERENCES spell (id),
    bed_id       uuid NOT NULL REFERENCES bed (id),
    from_at      timestamptz NOT NULL,
    to_at        timestamptz,
    cancelled_at timestamptz,
    CHECK (to_at IS NULL OR to_at >= from_at)
);
CREATE UNIQUE INDEX bed_stay_one_per_bed ON bed_stay (bed_id)
    WHERE to_at IS NULL AND cancelled_at IS NULL;
CREATE UNIQUE INDEX bed_stay_one_per_spell ON bed_stay (spell_id)
    WHERE to_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX bed_stay_bed_time ON bed_stay (bed_id, from_at);

-- Every admission, transfer, consultant change and discharge, in order: what a
-- cancellation undoes, and the history it keeps (cancelled, never deleted).
CREATE TABLE encounter_action (
    id            uuid PRIMARY KEY,
    spell_id      uuid NOT NULL REFERENCES spell (id),
    seq           int NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('admission', 'transfer', 'consultant', 'discharge')),
    at            timestamptz NOT NULL,
    by_user       text NOT NULL,
    detail        jsonb NOT NULL,
    recorded_at   timestamptz NOT NULL,
    cancelled_at  timestamptz,
    cancelled_by  text,
    cancel_reason text,
    UNIQUE (spell_id, seq)
);

-- What scheduling said of each outpatient appointment's end (its outcome or cancellation).
CREATE TABLE attendance (
    appointment_id     uuid PRIMARY KEY,
    patient_id         text NOT NULL,
    attendance_code    text NOT NULL,
    first_attendance   boolean NOT NULL,
    treatment_function text NOT NULL,
    clinician          text NOT NULL,
    on_date            date NOT NULL,
    ppid               text,
    ppid_issuer        text,
    seen_at            timestamptz NOT NULL
);
CREATE INDEX attendance_patient ON attendance (patient_id);

-- What the trust is paid from: one live record per finished episode or attended
-- appointment. A record is withdrawn (never deleted) when what it records is undone.
CREATE TABLE activity (
    id                    uuid PRIMARY KEY,
    kind                  text NOT NULL CHECK (kind IN ('apc-episode', 'outpatient')),
    source_id             uuid NOT NULL,
    patient_id            text NOT NULL,
    spell_id              uuid,
    spell_number          bigint,
    treatment_function    text NOT NULL,
    consultant            text NOT NULL,
    start_date            date NOT NULL,
    end_date              date NOT NULL,
    admission_method      text,
    admission_source      text,
    discharge_method      text,
    discharge_destination text,
    attendance_code       text,
    first_attendance      text,
    ppid                  text,
    ppid_issuer           text,
    commissioner          text,
    diagnoses             text[] NOT NULL DEFAULT '{}',
    procedures            text[] NOT NULL DEFAULT '{}',
    coded_at              timestamptz,
    coded_by              text,
    recorded_at           timestamptz NOT NULL,
    withdrawn_at          timestamptz,
    withdraw_reason       text,
    version               bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX activity_one_live ON activity (kind, source_id) WHERE withdrawn_at IS NULL;
CREATE INDEX activity_end_date ON activity (end_date);
CREATE INDEX activity_patient ON activity (patient_id);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE activity; DROP TABLE attendance; DROP TABLE encounter_action;
                 DROP TABLE bed_stay; DROP TABLE episode; DROP TABLE spell; DROP TABLE bed;
                 DROP TABLE ward;",
            )
            .await?;
        Ok(())
    }
}

/// The admitted (elective) waiting list: decisions to admit, offers of a to-come-in date,
/// suspensions, removals. Expand only: new tables, and a nullable column on `spell`.
pub struct AdmittedWaitingList;

impl MigrationName for AdmittedWaitingList {
    fn name(&self) -> &str {
        "m20261207_001000_admitted_waiting_list"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AdmittedWaitingList {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE waiting_list_entry (
    id                  uuid PRIMARY KEY,
    patient_id          text NOT NULL,
    referral_id         uuid,
    ppid                text,
    ppid_issuer         text,
    decided_on          date NOT NULL,
    intended_management text NOT NULL,
    priority            text NOT NULL CHECK (priority IN ('routine', 'urgent', 'two-week-wait')),
    treatment_function  text NOT NULL,
    consultant          text NOT NULL,
    procedure_note      text,
    status              text NOT NULL CHECK (status IN ('waiting', 'admitted', 'removed')),
    closed_at           timestamptz,
    tci_date            date,
    suspended_until     date,
    suspend_reason      text,
    removal_reason      text,
    spell_id            uuid REFERENCES spell (id),
    version             bigint NOT NULL DEFAULT 1,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX waiting_list_open ON waiting_list_entry (treatment_function, decided_on) WHERE status = 'waiting';
CREATE INDEX waiting_list_patient ON waiting_list_entry (patient_id);

-- Every offer of a to-come-in date and what the patient said: reasonable offers declined
-- are what a trust may act on, so they are kept.
CREATE TABLE tci_offer (
    id          uuid PRIMARY KEY,
    entry_id    uuid NOT NULL REFERENCES waiting_list_entry (id),
    tci_date    date NOT NULL,
    accepted    boolean NOT NULL,
    offered_by  text NOT NULL,
    offered_at  timestamptz NOT NULL
);
CREATE INDEX tci_offer_entry ON tci_offer (entry_id);

ALTER TABLE spell ADD COLUMN waiting_list_entry_id uuid;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE spell DROP COLUMN waiting_list_entry_id;
                 DROP TABLE tci_offer; DROP TABLE waiting_list_entry;",
            )
            .await?;
        Ok(())
    }
}

/// The trust's old PAS feeding encounters through the MPI (ADR 33): the sending PAS's visit
/// number on the spell, and the exception list for messages that cannot be applied.
pub struct AdtFeed;

impl MigrationName for AdtFeed {
    fn name(&self) -> &str {
        "m20261207_001100_adt_feed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AdtFeed {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
ALTER TABLE spell ADD COLUMN visit_number text;
CREATE UNIQUE INDEX spell_visit_number ON spell (visit_number)
    WHERE visit_number IS NOT NULL AND status <> 'cancelled';

-- Messages the feed delivered that could not be applied (an unknown ward, an occupied bed,
-- an out-of-order time): the MPI answered AA for the feed, so a person resolves them here.
CREATE TABLE adt_exception (
    id          uuid PRIMARY KEY,
    sender      text NOT NULL,
    control_id  text NOT NULL,
    trigger     text NOT NULL,
    patient_id  text NOT NULL,
    visit       text,
    code        text NOT NULL,
    detail      text NOT NULL,
    er7         text NOT NULL,
    received_at timestamptz NOT NULL,
    resolved_at timestamptz,
    resolved_by text,
    UNIQUE (sender, control_id)
);
CREATE INDEX adt_exception_open ON adt_exception (received_at) WHERE resolved_at IS NULL;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE adt_exception; ALTER TABLE spell DROP COLUMN visit_number;",
            )
            .await?;
        Ok(())
    }
}

/// Leave of absence: the spell goes on (28 days or less), the bed is kept. Expand only: a
/// wider check (N writes none of the new kinds) and a nullable column.
pub struct LeaveOfAbsence;

impl MigrationName for LeaveOfAbsence {
    fn name(&self) -> &str {
        "m20261207_001200_leave_of_absence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for LeaveOfAbsence {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE encounter_action DROP CONSTRAINT IF EXISTS encounter_action_kind_check;
                 ALTER TABLE encounter_action ADD CONSTRAINT encounter_action_kind_check CHECK
                   (kind IN ('admission', 'transfer', 'consultant', 'discharge', 'leave-start', 'leave-end'));
                 ALTER TABLE spell ADD COLUMN IF NOT EXISTS on_leave_since timestamptz;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE spell DROP COLUMN on_leave_since;")
            .await?;
        Ok(())
    }
}
