//! Tables every service's tenant schema needs for events. Services list
//! [`CreateOutboxAndInbox`] and [`InboxPerConsumer`] in their migrator before their own
//! migrations.
use sea_orm_migration::prelude::*;

pub struct CreateOutboxAndInbox;

impl MigrationName for CreateOutboxAndInbox {
    fn name(&self) -> &str {
        "m20261122_000000_create_outbox_and_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutboxAndInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
CREATE TABLE IF NOT EXISTS outbox (
    seq         bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    topic       text NOT NULL,
    msg_key     text NOT NULL,
    ce_type     text NOT NULL,
    ce_source   text NOT NULL,
    ce_subject  text,
    ce_time     timestamptz NOT NULL,
    traceparent text,
    payload     bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    event_id     uuid PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS inbox_dead_letter (
    id          bigserial PRIMARY KEY,
    event_id    text,
    topic       text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    error       text NOT NULL,
    payload     bytea,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS inbox_dead_letter; DROP TABLE IF EXISTS inbox; DROP TABLE IF EXISTS outbox;")
            .await?;
        Ok(())
    }
}

/// The inbox remembers which consumer applied an event: two consumers of one topic in one
/// service (the MPI's patient events feed both the merge follower and the known-patient
/// projection) each apply it once, instead of the first hiding it from the second.
pub struct InboxPerConsumer;

impl MigrationName for InboxPerConsumer {
    fn name(&self) -> &str {
        "m20261126_000000_inbox_per_consumer"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InboxPerConsumer {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS consumer text NOT NULL DEFAULT '';
ALTER TABLE inbox DROP CONSTRAINT IF EXISTS inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (consumer, event_id);
ALTER TABLE inbox_dead_letter ADD COLUMN IF NOT EXISTS consumer text;
"#,
            )
            .await?;
        Ok(())
    }
}
