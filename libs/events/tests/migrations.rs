//! A schema a newer version migrated is served as it is by the version before (expand-only
//! migrations, ADR 28): during a rollout an instance of N can restart after N+1 migrated, and
//! a rollback runs N again. sea-orm alone refuses to start ("applied but its file is
//! missing"), which is how release f4e0d04 failed the upgrade test (docs/releases.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use tessera_tenancy::{migrate_tenant, TenantId};
use tessera_testkit as kit;

struct First;
impl MigrationName for First {
    fn name(&self) -> &str {
        "m20261126_900001_first"
    }
}
#[async_trait::async_trait]
impl MigrationTrait for First {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("CREATE TABLE thing (n int PRIMARY KEY)")
            .await?;
        Ok(())
    }
}

struct Second;
impl MigrationName for Second {
    fn name(&self) -> &str {
        "m20261126_900002_second"
    }
}
#[async_trait::async_trait]
impl MigrationTrait for Second {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("ALTER TABLE thing ADD COLUMN label text")
            .await?;
        Ok(())
    }
}

/// Version N: the first migration.
struct N;
impl MigratorTrait for N {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(First)]
    }
}

/// Version N+1: one more, expand-only.
struct NextVersion;
impl MigratorTrait for NextVersion {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(First), Box::new(Second)]
    }
}

#[tokio::test]
async fn the_version_before_starts_on_a_schema_the_next_version_migrated() {
    let url = kit::database("tessera_events_test").await;
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    migrate_tenant::<N>(&url, &tenant).await.unwrap();
    migrate_tenant::<NextVersion>(&url, &tenant).await.unwrap();
    // N restarts: its migrations are all there, and one it does not know.
    migrate_tenant::<N>(&url, &tenant)
        .await
        .expect("N serves the schema N+1 expanded");
    // And N+1 again finds nothing to do.
    migrate_tenant::<NextVersion>(&url, &tenant).await.unwrap();
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM {}.seaql_migrations",
                tenant.schema()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 2);
}
