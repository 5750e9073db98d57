//! The provisioning every service does for a new tenant: migrate its schema with the
//! service's migrator, create the tenant topics it publishes on, and say which tenants this
//! deployment serves (`tenancy.only`).
use crate::{migrate_tenant, JobError, Provisioner, TenantId, TenantIdError};
use futures::future::BoxFuture;
use sea_orm_migration::MigratorTrait;
use std::collections::BTreeSet;
use std::marker::PhantomData;

pub struct SchemaAndTopics<M> {
    pub database_url: String,
    /// Served tenants; `None`: all.
    pub only: Option<BTreeSet<TenantId>>,
    /// `(service, stream)` of each tenant topic created at provisioning.
    pub topics: Vec<(&'static str, &'static str)>,
    /// Platform topics the service writes to (e.g. the platform audit topic).
    pub platform_topics: Vec<String>,
    pub migrator: PhantomData<M>,
}

impl<M> SchemaAndTopics<M> {
    /// Parses `tenancy.only` (ODS codes).
    pub fn parse_only(
        only: Option<&[String]>,
    ) -> Result<Option<BTreeSet<TenantId>>, TenantIdError> {
        only.map(|list| list.iter().map(|s| TenantId::parse(s)).collect())
            .transpose()
    }

    /// The served tenants as a list, for consumers (`None`: all).
    pub fn only_list(&self) -> Option<Vec<TenantId>> {
        self.only.as_ref().map(|s| s.iter().cloned().collect())
    }
}

impl<M: MigratorTrait + Send + Sync + 'static> Provisioner for SchemaAndTopics<M> {
    fn provision<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            migrate_tenant::<M>(&self.database_url, tenant)
                .await
                .map_err(|e| JobError::Migration {
                    tenant: tenant.to_string(),
                    detail: e.to_string(),
                })
        })
    }

    fn tenant_topics(&self, tenant: &TenantId) -> Vec<String> {
        self.topics
            .iter()
            .map(|(service, stream)| tenant.topic(service, stream))
            .collect()
    }

    fn platform_topics(&self) -> Vec<String> {
        self.platform_topics.clone()
    }

    fn serves(&self, tenant: &TenantId) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(tenant))
    }
}
