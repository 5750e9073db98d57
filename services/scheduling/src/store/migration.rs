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
            Box::new(CreateScheduling),
            Box::new(AppointmentPathway),
            Box::new(ReferralsSeen),
            Box::new(BookingKeys),
            Box::new(FollowMerges),
        ]
    }
}

pub struct CreateScheduling;

impl MigrationName for CreateScheduling {
    fn name(&self) -> &str {
        "m20261126_000800_create_scheduling"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateScheduling {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE clinic (
    id                 uuid PRIMARY KEY,
    code               text NOT NULL UNIQUE,
    name               text NOT NULL,
    specialty          text NOT NULL,
    treatment_function text NOT NULL,
    site               text NOT NULL,
    room               text,
    clinician          text,
    team               text,
    services           text[] NOT NULL,
    ers_bookable       boolean NOT NULL,
    created_at         timestamptz NOT NULL
);

CREATE TABLE session_template (
    id           uuid PRIMARY KEY,
    clinic_id    uuid NOT NULL REFERENCES clinic (id),
    pattern      jsonb NOT NULL,
    starts       time NOT NULL,
    ends         time NOT NULL,
    slot_minutes int NOT NULL CHECK (slot_minutes > 0),
    capacity     int NOT NULL CHECK (capacity > 0),
    overbook     int NOT NULL CHECK (overbook >= 0),
    slot_type    text NOT NULL,
    valid_from   date NOT NULL,
    valid_to     date,
    created_at   timestamptz NOT NULL
);

-- The trust's bank holidays: no session is generated on one.
CREATE TABLE bank_holiday (
    on_date date PRIMARY KEY,
    name    text NOT NULL
);

-- One session per template and date: generating again adds only what is missing, so it
-- never disturbs a booked slot.
CREATE TABLE session (
    id           uuid PRIMARY KEY,
    clinic_id    uuid NOT NULL REFERENCES clinic (id),
    template_id  uuid NOT NULL REFERENCES session_template (id),
    on_date      date NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    cancelled_at timestamptz,
    cancel_reason text,
    UNIQUE (template_id, on_date)
);
CREATE INDEX session_clinic_date ON session (clinic_id, on_date);

-- A slot's places: `booked` counts booked appointments, changed only under the slot's row
-- lock together with the appointment; the check is the database's last word on capacity.
CREATE TABLE slot (
    id         uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES session (id),
    clinic_id  uuid NOT NULL REFERENCES clinic (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    slot_type  text NOT NULL,
    capacity   int NOT NULL,
    overbook   int NOT NULL,
    booked     int NOT NULL DEFAULT 0,
    blocked    boolean NOT NULL DEFAULT false,
    CHECK (booked >= 0 AND booked <= capacity + overbook),
    UNIQUE (session_id, starts_at)
);
CREATE INDEX slot_free ON slot (starts_at) WHERE NOT blocked;
CREATE INDEX slot_clinic_time ON slot (clinic_id, starts_at);

CREATE TABLE slot_hold (
    id         uuid PRIMARY KEY,
    slot_id    uuid NOT NULL REFERENCES slot (id),
    user_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX slot_hold_slot ON slot_hold (slot_id, expires_at);

CREATE TABLE appointment (
    id              uuid PRIMARY KEY,
    slot_id         uuid NOT NULL REFERENCES slot (id),
    clinic_id       uuid NOT NULL REFERENCES clinic (id),
    patient_id      text NOT NULL,
    referral_id     uuid,
    pathway_id      uuid,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    -- booked | cancelled | attended | not-seen | did-not-attend
    status          text NOT NULL,
    -- NHS Data Dictionary "Attended or did not attend": 0 future, 2 or 4 cancelled, 3, 5, 6, 7
    attendance_code smallint NOT NULL,
    cancel_reason   text,
    overbooked      boolean NOT NULL,
    rescheduled_from uuid REFERENCES appointment (id),
    booked_by       text NOT NULL,
    booked_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL
);
CREATE INDEX appointment_patient ON appointment (patient_id, starts_at);
CREATE INDEX appointment_slot ON appointment (slot_id) WHERE status = 'booked';

-- Patients to offer another appointment: after a provider cancellation or a DNA.
CREATE TABLE rebook (
    appointment_id uuid PRIMARY KEY REFERENCES appointment (id),
    patient_id     text NOT NULL,
    referral_id    uuid,
    reason         text NOT NULL,
    since          timestamptz NOT NULL,
    done_at        timestamptz
);
CREATE INDEX rebook_open ON rebook (since) WHERE done_at IS NULL;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE rebook; DROP TABLE appointment; DROP TABLE slot_hold; DROP TABLE slot;
                 DROP TABLE session; DROP TABLE bank_holiday; DROP TABLE session_template; DROP TABLE clinic;",
            )
            .await?;
        Ok(())
    }
}

/// The RTT pathway an appointment serves (its PPID and issuer, as the referral's pathway has
/// them: the clock-event contract names pathways so) and whether the appointment was clearly
/// communicated (without it a DNA cannot nullify a clock). Expand only.
pub struct AppointmentPathway;

impl MigrationName for AppointmentPathway {
    fn name(&self) -> &str {
        "m20261126_000801_appointment_pathway"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AppointmentPathway {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE appointment ADD COLUMN IF NOT EXISTS ppid text;
                 ALTER TABLE appointment ADD COLUMN IF NOT EXISTS ppid_issuer text;
                 ALTER TABLE appointment ADD COLUMN IF NOT EXISTS communicated boolean NOT NULL DEFAULT true;
                 CREATE INDEX IF NOT EXISTS appointment_pathway ON appointment (ppid_issuer, ppid, starts_at)
                   WHERE ppid IS NOT NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS appointment_pathway;
                 ALTER TABLE appointment DROP COLUMN IF EXISTS communicated;
                 ALTER TABLE appointment DROP COLUMN IF EXISTS ppid_issuer;
                 ALTER TABLE appointment DROP COLUMN IF EXISTS ppid;",
            )
            .await?;
        Ok(())
    }
}

/// The trust's referrals as the referrals service publishes them: the ready-to-book and
/// appointment-slot-issue worklists read them. Expand only.
pub struct ReferralsSeen;

impl MigrationName for ReferralsSeen {
    fn name(&self) -> &str {
        "m20261206_000800_referrals_seen"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReferralsSeen {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS referral_seen (
                     referral_id        uuid PRIMARY KEY,
                     patient_id         text NOT NULL,
                     state              text NOT NULL,
                     priority           text,
                     specialty          text,
                     treatment_function text,
                     team               text,
                     ppid               text,
                     ppid_issuer        text,
                     received_on        date,
                     ubrn               text,
                     changed_at         timestamptz NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS referral_seen_ready ON referral_seen (received_on)
                   WHERE state = 'ACCEPTED';
                 CREATE INDEX IF NOT EXISTS referral_seen_patient ON referral_seen (patient_id);
                 CREATE INDEX IF NOT EXISTS appointment_referral ON appointment (referral_id)
                   WHERE referral_id IS NOT NULL AND status = 'booked';",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS appointment_referral; DROP TABLE IF EXISTS referral_seen;",
            )
            .await?;
        Ok(())
    }
}

/// A booking's `Idempotency-Key`, unique in the trust: a retried booking finds its first
/// answer instead of booking twice (ADR 30). Expand only.
pub struct BookingKeys;

impl MigrationName for BookingKeys {
    fn name(&self) -> &str {
        "m20261206_000801_booking_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BookingKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE appointment ADD COLUMN IF NOT EXISTS idempotency_key text;
                 CREATE UNIQUE INDEX IF NOT EXISTS appointment_idempotency_key
                   ON appointment (idempotency_key) WHERE idempotency_key IS NOT NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS appointment_idempotency_key;
                 ALTER TABLE appointment DROP COLUMN IF EXISTS idempotency_key;",
            )
            .await?;
        Ok(())
    }
}

/// What a merge re-pointed (so its unmerge puts back exactly that) and the reviews it raised
/// (docs/contracts/merge.md). Expand only.
pub struct FollowMerges;

impl MigrationName for FollowMerges {
    fn name(&self) -> &str {
        "m20261206_000802_follow_merges"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FollowMerges {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS merge_repoint (
                     merge_id   text NOT NULL,
                     table_name text NOT NULL,
                     row_id     uuid NOT NULL,
                     PRIMARY KEY (merge_id, table_name, row_id)
                 );
                 CREATE TABLE IF NOT EXISTS merge_review (
                     id          uuid PRIMARY KEY,
                     merge_id    text NOT NULL,
                     patient_id  text NOT NULL,
                     kind        text NOT NULL,
                     detail      jsonb NOT NULL,
                     raised_at   timestamptz NOT NULL,
                     resolved_at timestamptz
                 );
                 CREATE INDEX IF NOT EXISTS merge_review_open ON merge_review (raised_at)
                   WHERE resolved_at IS NULL;
                 CREATE INDEX IF NOT EXISTS rebook_patient ON rebook (patient_id);",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS rebook_patient; DROP TABLE IF EXISTS merge_review;
                 DROP TABLE IF EXISTS merge_repoint;",
            )
            .await?;
        Ok(())
    }
}
