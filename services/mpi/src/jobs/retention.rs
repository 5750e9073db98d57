//! Keeps `hl7_message` (the stored ACK of every HL7 message, for answering resends) to its
//! retention period: a sender resends within minutes or hours, never months later.
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_tenancy::{JobError, TenantDb, TenantRegistry};

pub struct Hl7AckRetention {
    pub db: TenantDb,
    pub registry: Arc<TenantRegistry>,
    pub keep_days: u32,
    pub every: Duration,
}

impl Hl7AckRetention {
    /// Purges at start, then every `every`, until shutdown.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), JobError> {
        loop {
            for tenant in self.registry.ready_tenants() {
                match self.purge(&tenant).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(tenant = %tenant, removed = n, "hl7 acks past retention removed")
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %tenant, error = %e, "hl7 ack retention failed; will retry")
                    }
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = tokio::time::sleep(self.every) => {}
            }
        }
    }

    async fn purge(&self, tenant: &tessera_tenancy::TenantId) -> Result<u64, JobError> {
        let txn = self.db.begin(tenant).await?;
        let n = txn
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM hl7_message WHERE received_at < now() - make_interval(days => $1)",
                [i32::try_from(self.keep_days).unwrap_or(i32::MAX).into()],
            ))
            .await?
            .rows_affected();
        txn.commit().await?;
        Ok(n)
    }
}
