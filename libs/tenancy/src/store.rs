//! The tenant registry kept durably on the service's own side (ADR 19): every tenant record
//! the feed applies is also written to `platform.tenant_registry` in the service's database,
//! and a starting service serves the tenants it finds there before the broker answers. A
//! service restarted during a broker outage therefore still knows every trust it served.
use crate::{TenantDb, TenantId, PLATFORM_SCHEMA};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

/// A tenant's last known status, as the tenants topic last said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredStatus {
    Active,
    Suspended,
}

impl StoredStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// Records `tenant`'s status as read from `tenants_topic` (insert or update). Idempotent.
pub async fn remember(
    db: &TenantDb,
    tenants_topic: &str,
    tenant: &TenantId,
    status: StoredStatus,
) -> Result<(), sea_orm::DbErr> {
    db.raw()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO \"{PLATFORM_SCHEMA}\".tenant_registry (tenants_topic, ods_code, status, updated_at)
                 VALUES ($1, $2, $3, now())
                 ON CONFLICT (tenants_topic, ods_code) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
                 WHERE tenant_registry.status IS DISTINCT FROM EXCLUDED.status"
            ),
            [
                tenants_topic.into(),
                tenant.as_str().into(),
                status.as_str().into(),
            ],
        ))
        .await
        .map(|_| ())
}

/// Every tenant this service has recorded from `tenants_topic`, with its last status. Rows
/// that no longer parse (never written by this code) are skipped.
pub async fn recall(
    db: &TenantDb,
    tenants_topic: &str,
) -> Result<Vec<(TenantId, StoredStatus)>, sea_orm::DbErr> {
    let rows = db
        .raw()
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT ods_code, status FROM \"{PLATFORM_SCHEMA}\".tenant_registry
                 WHERE tenants_topic = $1 ORDER BY ods_code"
            ),
            [tenants_topic.into()],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let ods: String = r.try_get("", "ods_code").ok()?;
            let status: String = r.try_get("", "status").ok()?;
            let tenant = TenantId::parse(&ods).ok()?;
            let status = if status == "suspended" {
                StoredStatus::Suspended
            } else {
                StoredStatus::Active
            };
            Some((tenant, status))
        })
        .collect())
}

/// The `tenant_registry` table; in every service's platform migrator.
pub struct CreateTenantRegistry;

impl MigrationName for CreateTenantRegistry {
    fn name(&self) -> &str {
        "m20261125_000001_create_tenant_registry"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTenantRegistry {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS tenant_registry (
                    tenants_topic text NOT NULL,
                    ods_code      text NOT NULL,
                    status        text NOT NULL CHECK (status IN ('active', 'suspended')),
                    updated_at    timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (tenants_topic, ods_code)
                )",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS tenant_registry")
            .await?;
        Ok(())
    }
}
