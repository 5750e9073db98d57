//! Tenancy: a tenant is a trust, named by its ODS code. This crate owns
//! - [`TenantId`] and the schema name derived from it (the only way a schema name is made);
//! - [`TenantDb`]: one pool per service, and transactions scoped to one tenant's schema before
//!   any statement runs;
//! - [`migrate_tenant`]: create and migrate a tenant's schema, once, even with many replicas;
//! - [`health`]: the readiness checks every service makes (database, broker, tenants);
//! - [`TenantRegistry`]: the tenants this process knows, fed by the compacted topic
//!   `tessera.platform.tenants`, each provisioned by the service's own [`Provisioner`], and
//!   recorded in the service's own database ([`store`]) so it is served across a restart
//!   without the broker.
//!
//! It must never let a statement run against a tenant's data outside its scope.

mod db;
mod feed;
pub mod health;
mod id;
mod ids;
mod job;
pub mod probe;
mod provision;
mod registry;
pub mod store;

pub use db::{migrate_schema, migrate_tenant, stmt, DbError, TenantDb, PLATFORM_SCHEMA};
pub use feed::run_registry_feed;
pub use id::{TenantId, TenantIdError};
pub use job::JobError;
pub use provision::SchemaAndTopics;
pub use registry::{
    publish_tenant, KafkaSettings, Provisioner, TenantRegistry, TenantReport, TenantState,
    TENANTS_TOPIC,
};
