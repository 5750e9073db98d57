//! Heartbeats: every few seconds each trust's access topics get a `Heartbeat` through the
//! outbox, so a projection that applied it has applied everything committed before it, and
//! its age (now − newest event applied) stays small unless it lags.
use prost::Message as _;
use std::sync::Arc;
use std::time::Duration;
use tessera_access::projection::types;
use tessera_bootstrap::Shutdown;
use tessera_proto::access::v1 as pb;
use tessera_tenancy::{JobError, TenantDb, TenantRegistry};
use tokio::sync::Notify;

pub struct Heartbeat {
    pub db: TenantDb,
    pub registry: Arc<TenantRegistry>,
    pub relay: Arc<Notify>,
    pub every: Duration,
}

impl Heartbeat {
    pub async fn run(self, shutdown: Shutdown) -> Result<(), JobError> {
        loop {
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = tokio::time::sleep(self.every) => {}
            }
            for tenant in self.registry.ready_tenants() {
                if let Err(e) = self.beat(&tenant).await {
                    tracing::warn!(tenant = %tenant, error = %e, "heartbeat not written");
                }
            }
            self.relay.notify_one();
        }
    }

    async fn beat(&self, tenant: &tessera_tenancy::TenantId) -> Result<(), JobError> {
        let txn = self.db.begin(tenant).await?;
        let payload = pb::Heartbeat {
            at: crate::store::rfc3339(chrono::Utc::now()),
        }
        .encode_to_vec();
        for stream in ["relationship", "consent"] {
            crate::store::publish_raw(
                &txn,
                tenant,
                stream,
                "heartbeat",
                types::HEARTBEAT,
                payload.clone(),
            )
            .await
            .map_err(|e| JobError::Store(e.to_string()))?;
        }
        Ok(txn.commit().await?)
    }
}
