//! What the soak watches beside the answers: every service's outbox backlog, how far the
//! audit store lags the audit records the services wrote, and a real round trip through the
//! broker.
use crate::platform::Platform;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;
use std::time::{Duration, Instant};
use tessera_tenancy::{KafkaSettings, TenantId};

pub struct Observer {
    /// `(service, connection)` for each service's database.
    dbs: Vec<(String, DatabaseConnection)>,
    access: DatabaseConnection,
    schemas: Vec<String>,
    kafka: KafkaSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub outbox_backlog: i64,
    /// Audit records written by the services (the demo trusts).
    pub audit_written: i64,
    /// Of those, in the audit store.
    pub audit_stored: i64,
    /// Broker round trip in ms, or `None` when it failed.
    pub broker_ms: Option<u64>,
    pub broker_error: Option<String>,
}

impl Sample {
    pub fn audit_lag(&self) -> i64 {
        self.audit_written - self.audit_stored
    }
}

impl Observer {
    pub async fn connect(p: &Platform) -> Result<Self, String> {
        let mut dbs = Vec::new();
        for service in p.services.keys() {
            let url = format!("{}/tessera_{service}?sslmode=disable", p.postgres);
            let db = Database::connect(url).await.map_err(|e| e.to_string())?;
            dbs.push((service.clone(), db));
        }
        let access = Database::connect(format!("{}/tessera_access?sslmode=disable", p.postgres))
            .await
            .map_err(|e| e.to_string())?;
        let schemas = p
            .trusts
            .keys()
            .map(|ods| TenantId::parse(ods).map(|t| t.schema()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            dbs,
            access,
            schemas,
            kafka: KafkaSettings {
                brokers: p.kafka.bootstrap.clone(),
                idempotence: false,
                ..KafkaSettings::default()
            },
        })
    }

    pub async fn sample(&self) -> Result<Sample, String> {
        let mut outbox = 0;
        let mut written = 0;
        for (_, db) in &self.dbs {
            let schemas = tables(db, "outbox").await?;
            outbox += sum_counts(db, &schemas, "outbox").await?;
            let mine: Vec<String> = tables(db, "audit_log")
                .await?
                .into_iter()
                .filter(|s| self.schemas.contains(s))
                .collect();
            written += sum_counts(db, &mine, "audit_log").await?;
        }
        let stored = sum_counts(&self.access, &self.schemas, "audit_store").await?;
        let (broker_ms, broker_error) =
            match tessera_tenancy::probe::probe(&self.kafka, Duration::from_secs(5)).await {
                Ok(d) => (Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)), None),
                Err(e) => (None, Some(e.to_string())),
            };
        Ok(Sample {
            outbox_backlog: outbox,
            audit_written: written,
            audit_stored: stored,
            broker_ms,
            broker_error,
        })
    }
}

/// The schemas holding a table named `table`.
async fn tables(db: &DatabaseConnection, table: &str) -> Result<Vec<String>, String> {
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT table_schema AS s FROM information_schema.tables WHERE table_name = $1",
            [table.into()],
        ))
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "s").ok())
        .collect())
}

/// The rows of `table` over `schemas` (names this tool made or read from the catalogue).
async fn sum_counts(
    db: &DatabaseConnection,
    schemas: &[String],
    table: &str,
) -> Result<i64, String> {
    if schemas.is_empty() {
        return Ok(0);
    }
    let parts: Vec<String> = schemas
        .iter()
        .map(|s| format!("(SELECT count(*) FROM \"{}\".{table})", s.replace('"', "")))
        .collect();
    let sql = format!("SELECT ({})::bigint AS n", parts.join(" + "));
    let row = db
        .query_one(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.and_then(|r| r.try_get("", "n").ok()).unwrap_or(0))
}

/// Waits until every outbox is empty and the audit store holds every record written, or
/// `limit` passes. Returns whether it drained, and the last sample.
pub async fn settle(
    observer: &Observer,
    limit: Duration,
    broker_failures: &mut usize,
) -> (bool, Option<Sample>) {
    let until = Instant::now() + limit;
    let mut last = None;
    loop {
        if let Ok(s) = observer.sample().await {
            *broker_failures += usize::from(s.broker_error.is_some());
            let done = s.outbox_backlog == 0 && s.audit_lag() == 0;
            println!(
                "settling: outbox {}  audit lag {}",
                s.outbox_backlog,
                s.audit_lag()
            );
            last = Some(s);
            if done {
                return (true, last);
            }
        }
        if Instant::now() >= until {
            return (false, last);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
