//! What the access service does when a tenant appears: migrate its schema and create the
//! topics it publishes on.
use crate::store::migration::TenantMigrator;
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use tessera_tenancy::{migrate_tenant, KafkaSettings, Provisioner, TenantId};

pub struct AccessProvisioner {
    pub database_url: String,
    pub kafka: KafkaSettings,
    pub only: Option<BTreeSet<TenantId>>,
}

impl Provisioner for AccessProvisioner {
    fn provision<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            migrate_tenant::<TenantMigrator>(&self.database_url, tenant)
                .await
                .map_err(|e| e.to_string())?;
            self.kafka
                .ensure_topics(
                    &[
                        tenant.topic("access", "relationship"),
                        tenant.topic("access", "consent"),
                        tenant.topic("access", "alerts"),
                        tenant.topic("audit", "events"),
                    ],
                    false,
                )
                .await
        })
    }

    fn platform_topics(&self) -> Vec<String> {
        vec![tessera_audit::PLATFORM_TOPIC.to_string()]
    }

    fn serves(&self, tenant: &TenantId) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(tenant))
    }
}
