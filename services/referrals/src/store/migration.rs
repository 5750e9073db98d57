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
            Box::new(tessera_patients::CreateKnownPatients),
            Box::new(tessera_access::projection::CreateAccessProjection),
            Box::new(CreateReferrals),
            Box::new(tessera_audit::DropAuditLogPatientIndex),
            Box::new(WaitingListInWaitOrder),
            Box::new(tessera_access::projection::AddConsentTrusts),
        ]
    }
}

pub struct CreateReferrals;

impl MigrationName for CreateReferrals {
    fn name(&self) -> &str {
        "m20261122_000500_create_referrals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateReferrals {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- An RTT pathway: PPID + issuer, the patient, where it is being treated. Its clock events are
-- the truth; rtt_period holds what libs/rtt derives from them, rewritten on every change.
CREATE TABLE IF NOT EXISTS pathway (
    id                 uuid PRIMARY KEY,
    patient_id         text NOT NULL,
    ppid               text NOT NULL,
    issuer             text NOT NULL,
    specialty          text NOT NULL,
    treatment_function text NOT NULL,
    consultant         text,
    team               text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ppid, issuer)
);
CREATE INDEX IF NOT EXISTS pathway_patient ON pathway (patient_id);
CREATE SEQUENCE IF NOT EXISTS ppid_seq;
CREATE TABLE IF NOT EXISTS clock_event (
    id                uuid PRIMARY KEY,
    pathway_id        uuid NOT NULL REFERENCES pathway (id),
    on_date           date NOT NULL,
    kind              text NOT NULL,
    first_appointment boolean,
    communicated      boolean,
    by_patient        boolean,
    original_start    date,
    non_rtt_code      smallint,
    -- Who or what recorded it: `api:<user>`, `referral:<id>`, `scheduling:appointment:<id>`.
    source            text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    seq               bigserial NOT NULL
);
CREATE INDEX IF NOT EXISTS clock_event_pathway ON clock_event (pathway_id, on_date, seq);
CREATE UNIQUE INDEX IF NOT EXISTS clock_event_source ON clock_event (pathway_id, source)
    WHERE source NOT LIKE 'api:%';
-- The derived periods, with the pathway's columns the waiting list shows copied in (written
-- together by every re-derivation), so the list is one scan of one table.
CREATE TABLE IF NOT EXISTS rtt_period (
    pathway_id         uuid NOT NULL REFERENCES pathway (id),
    n                  int NOT NULL,
    start_date         date NOT NULL,
    start_code         smallint NOT NULL,
    end_date           date,
    state              text NOT NULL,
    stop_code          smallint,
    patient_id         text NOT NULL,
    ppid               text NOT NULL,
    issuer             text NOT NULL,
    specialty          text NOT NULL,
    treatment_function text NOT NULL,
    consultant         text,
    team               text,
    PRIMARY KEY (pathway_id, n)
);
CREATE INDEX IF NOT EXISTS rtt_period_open ON rtt_period (start_date) WHERE end_date IS NULL;
CREATE INDEX IF NOT EXISTS rtt_period_end ON rtt_period (end_date);
CREATE TABLE IF NOT EXISTS referral (
    id                  uuid PRIMARY KEY,
    patient_id          text NOT NULL,
    ubrn                text UNIQUE,
    source              text NOT NULL,
    referrer_code       text NOT NULL,
    referrer_org        text NOT NULL,
    priority            text NOT NULL,
    specialty           text NOT NULL,
    treatment_function  text NOT NULL,
    receiving_service   text NOT NULL,
    receiving_team      text NOT NULL,
    receiving_clinician text,
    received_on         date NOT NULL,
    attachments         jsonb NOT NULL DEFAULT '[]',
    pathway_id          uuid REFERENCES pathway (id),
    state               text NOT NULL,
    state_reason        text,
    version             bigint NOT NULL DEFAULT 1,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS referral_patient ON referral (patient_id);
CREATE INDEX IF NOT EXISTS referral_worklist ON referral (receiving_team, state);
CREATE TABLE IF NOT EXISTS referral_transition (
    id          bigserial PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referral (id),
    from_state  text,
    to_state    text NOT NULL,
    reason      text,
    actor       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS referral_transition_referral ON referral_transition (referral_id, id);
-- docs/contracts/merge.md: which rows a merge re-pointed, so its unmerge puts back exactly those.
CREATE TABLE IF NOT EXISTS merge_repoint (
    merge_id   text NOT NULL,
    table_name text NOT NULL,
    row_id     uuid NOT NULL,
    PRIMARY KEY (merge_id, table_name, row_id)
);
-- What a merge left for a person to decide (two open pathways in one specialty).
CREATE TABLE IF NOT EXISTS merge_review (
    id          uuid PRIMARY KEY,
    merge_id    text NOT NULL,
    patient_id  text NOT NULL,
    kind        text NOT NULL,
    detail      jsonb NOT NULL,
    raised_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
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
                "DROP TABLE IF EXISTS merge_review, merge_repoint, referral_transition, referral,
                 rtt_period, clock_event, pathway CASCADE; DROP SEQUENCE IF EXISTS ppid_seq",
            )
            .await?;
        Ok(())
    }
}

/// The waiting list's page is read in the order it is shown — longest wait first — from an
/// index, instead of sorting every incomplete pathway for twenty rows (ADR 29). Expand only.
pub struct WaitingListInWaitOrder;

impl MigrationName for WaitingListInWaitOrder {
    fn name(&self) -> &str {
        "m20261126_000500_waiting_list_in_wait_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WaitingListInWaitOrder {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS rtt_period_wait_order
                   ON rtt_period (start_date, ppid, issuer) WHERE state <> 'nullified'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS rtt_period_wait_order")
            .await?;
        Ok(())
    }
}
