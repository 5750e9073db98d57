use crate::TenantId;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

/// Schema for what belongs to no tenant: records of requests that could not be attributed
/// (an unverifiable token), and their outbox.
pub const PLATFORM_SCHEMA: &str = "platform";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// The service's one pool. Every transaction on tenant data goes through [`TenantDb::begin`].
#[derive(Clone)]
pub struct TenantDb {
    conn: DatabaseConnection,
    url: String,
}

impl TenantDb {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        let conn = Database::connect(opts).await?;
        Ok(Self {
            conn,
            url: url.to_owned(),
        })
    }

    /// A transaction scoped to `tenant`'s schema: `SET LOCAL search_path` runs before anything
    /// else, and only that schema is on the path, so a missing table is an error rather than a
    /// silent read from somewhere else.
    pub async fn begin(&self, tenant: &TenantId) -> Result<DatabaseTransaction, DbError> {
        self.begin_in(&tenant.schema()).await
    }

    /// A transaction scoped to the platform schema.
    pub async fn begin_platform(&self) -> Result<DatabaseTransaction, DbError> {
        self.begin_in(PLATFORM_SCHEMA).await
    }

    async fn begin_in(&self, schema: &str) -> Result<DatabaseTransaction, DbError> {
        let txn = self.conn.begin().await?;
        txn.execute_unprepared(&format!("SET LOCAL search_path TO \"{schema}\""))
            .await?;
        Ok(txn)
    }

    /// For statements that are not about one tenant (health checks, listing schemas).
    pub fn raw(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        self.conn
            .execute(Statement::from_string(DbBackend::Postgres, "SELECT 1"))
            .await?;
        Ok(())
    }

    /// Whether `tenant`'s schema exists and holds every migration of `M`.
    pub async fn is_migrated<M: MigratorTrait>(&self, tenant: &TenantId) -> Result<bool, DbError> {
        let expected = M::migrations().len() as i64;
        let row = self
            .conn
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT to_regclass($1)::text AS t",
                [format!("{}.seaql_migrations", tenant.schema()).into()],
            ))
            .await?;
        let exists = row
            .and_then(|r| r.try_get::<Option<String>>("", "t").ok().flatten())
            .is_some();
        if !exists {
            return Ok(false);
        }
        let row = self
            .conn
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT count(*) AS n FROM \"{}\".seaql_migrations",
                    tenant.schema()
                ),
            ))
            .await?;
        let n: i64 = row.and_then(|r| r.try_get("", "n").ok()).unwrap_or(0);
        Ok(n >= expected)
    }
}

/// Creates `tenant`'s schema if needed and applies every pending migration of `M` to it.
/// Idempotent, and safe when several replicas start together: a Postgres advisory lock keyed
/// on the schema lets one migrate while the others wait, then find nothing to do.
pub async fn migrate_tenant<M: MigratorTrait>(url: &str, tenant: &TenantId) -> Result<(), DbError> {
    migrate_schema::<M>(url, &tenant.schema()).await
}

/// As [`migrate_tenant`], for a schema named directly (the platform schema). `schema` must be
/// a name this code made, never input.
pub async fn migrate_schema<M: MigratorTrait>(url: &str, schema: &str) -> Result<(), DbError> {
    // One connection, so the session lock and the migration share it.
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(120))
        .set_schema_search_path(schema.to_owned())
        .sqlx_logging(false);
    let conn = Database::connect(opts).await?;
    let lock_key = format!("tessera-migrate:{schema}");
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_lock(hashtextextended($1, 0))",
        [lock_key.clone().into()],
    ))
    .await?;
    let result = async {
        conn.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
        if ahead_of::<M>(&conn, schema).await? {
            return Ok(());
        }
        M::up(&conn, None).await
    }
    .await;
    let unlock = conn
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            [lock_key.into()],
        ))
        .await;
    let _ = conn.close().await;
    result?;
    unlock?;
    Ok(())
}

/// A PostgreSQL statement with its bound values: the one helper every store writes its SQL
/// with (ADR 25). Values are always bound, never formatted into the text.
pub fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
    sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values)
}

/// Whether `schema` holds every migration of `M` and more: a newer version migrated it (its
/// migrations are expand-only, ADR 28), and this one — an instance of the version before,
/// restarted during a rollout, or rolled back to — serves it as it is. sea-orm's migrator
/// would refuse to start ("applied but its file is missing"), which is what a release before
/// this check does (docs/releases.md).
async fn ahead_of<M: MigratorTrait>(
    conn: &DatabaseConnection,
    schema: &str,
) -> Result<bool, sea_orm::DbErr> {
    let table = conn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT to_regclass($1)::text AS t",
            [format!("\"{schema}\".seaql_migrations").into()],
        ))
        .await?
        .and_then(|r| r.try_get::<Option<String>>("", "t").ok().flatten());
    if table.is_none() {
        return Ok(false);
    }
    let applied: std::collections::HashSet<String> = conn
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT version FROM \"{schema}\".seaql_migrations"),
        ))
        .await?
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "version").ok())
        .collect();
    let known: Vec<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let all_known_applied = known.iter().all(|k| applied.contains(k));
    let newer: Vec<&String> = applied.iter().filter(|a| !known.contains(a)).collect();
    if all_known_applied && !newer.is_empty() {
        tracing::info!(schema, newer = ?newer, "schema migrated by a newer version; serving it as it is");
        return Ok(true);
    }
    Ok(false)
}
