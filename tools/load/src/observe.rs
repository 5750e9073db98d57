//! What the soak watches beside the answers: every service's outbox backlog, how far the
//! audit store lags the audit records the services wrote, and a real round trip through the
//! broker.
use crate::platform::Platform;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tessera_tenancy::{KafkaSettings, TenantId};
use uuid::Uuid;

pub struct Observer {
    /// `(service, connection)` for each service's database.
    dbs: Vec<(String, DatabaseConnection)>,
    access: DatabaseConnection,
    schemas: Vec<String>,
    kafka: KafkaSettings,
    /// Per `service/schema`, the audit records counted once and for all (see `audit_written`).
    settled: Mutex<HashMap<String, Settled>>,
}

/// The `audit_log` rows with ids below `below` (UUIDv7: time-ordered), counted.
#[derive(Clone, Copy, Default)]
struct Settled {
    below: Uuid,
    count: i64,
}

/// A transaction commits well within this of making its record's id; rows with older ids
/// are all visible, so they are counted once (`audit_written`).
const SETTLED_AFTER_MS: u64 = 60_000;

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
            let url = format!(
                "{}/tessera_{}?sslmode=disable",
                p.postgres,
                service.replace('-', "_")
            );
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
            settled: Mutex::new(HashMap::new()),
        })
    }

    pub async fn sample(&self) -> Result<Sample, String> {
        let mut outbox = 0;
        let mut written = 0;
        for (service, db) in &self.dbs {
            let schemas = tables(db, "outbox").await?;
            outbox += sum_counts(db, &schemas, "outbox").await?;
            for schema in tables(db, "audit_log").await? {
                if self.schemas.contains(&schema) {
                    written += self.audit_written(service, db, &schema).await?;
                }
            }
        }
        let stored = stored_counts(&self.access, &self.schemas).await?;
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

impl Observer {
    /// How many audit records `service` has written in `schema`. A `count(*)` of the whole
    /// table every sample would cost the database more each minute of a long soak (seconds
    /// per sample after half an hour) and so distort what it measures: rows older than a
    /// minute are counted once, by their time-ordered ids, and each sample counts the rest.
    async fn audit_written(
        &self,
        service: &str,
        db: &DatabaseConnection,
        schema: &str,
    ) -> Result<i64, String> {
        let key = format!("{service}/{schema}");
        let before = self
            .settled
            .lock()
            .map_err(|e| e.to_string())?
            .get(&key)
            .copied()
            .unwrap_or_default();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_millis() as u64;
        let below = Uuid::from_u128(u128::from(now_ms.saturating_sub(SETTLED_AFTER_MS)) << 80);
        let row = db
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT count(*) FILTER (WHERE id < $2) AS settled, count(*) AS recent
                       FROM \"{}\".audit_log WHERE id >= $1",
                    schema.replace('"', "")
                ),
                [before.below.into(), below.max(before.below).into()],
            ))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no row")?;
        let settled: i64 = row.try_get("", "settled").map_err(|e| e.to_string())?;
        let recent: i64 = row.try_get("", "recent").map_err(|e| e.to_string())?;
        self.settled.lock().map_err(|e| e.to_string())?.insert(
            key,
            Settled {
                below: below.max(before.below),
                count: before.count + settled,
            },
        );
        Ok(before.count + recent)
    }
}

/// The records in the audit store of `schemas`: each trust's chain is numbered 1, 2, … with
/// no gap (libs/audit `chain`), so its head is its count — an index look-up, not a scan.
async fn stored_counts(db: &DatabaseConnection, schemas: &[String]) -> Result<i64, String> {
    if schemas.is_empty() {
        return Ok(0);
    }
    let parts: Vec<String> = schemas
        .iter()
        .map(|s| {
            format!(
                "(SELECT coalesce(max(seq), 0) FROM \"{}\".audit_store)",
                s.replace('"', "")
            )
        })
        .collect();
    let sql = format!("SELECT ({})::bigint AS n", parts.join(" + "));
    let row = db
        .query_one(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.and_then(|r| r.try_get("", "n").ok()).unwrap_or(0))
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
