//! The projection's table, in each tenant schema of a service that refers to patients.
use sea_orm_migration::prelude::*;

pub struct CreateKnownPatients;

impl MigrationName for CreateKnownPatients {
    fn name(&self) -> &str {
        "m20261126_000100_create_known_patient"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateKnownPatients {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS known_patient (
                    id uuid PRIMARY KEY,
                    merged_into uuid,
                    known_since timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await
            .map(|_| ())
    }
}
