//! The tenant operator: the `Trust` custom resource and the controller that acts on it
//! (kube-rs). For each `Trust` it publishes the tenant record every service provisions from
//! (`tessera.platform.tenants`), waits for every service serving the trust to report it
//! provisioned and ready (`/tenants/{ods}` on each management port), and writes that as the
//! resource's status with server-side apply. Deleting a `Trust` suspends the trust — no
//! clinical record is ever deleted by an operator. See docs/services/tenant-operator.md.

pub mod crd;
pub mod metrics;
pub mod probe;
pub mod reconcile;
pub mod run;
pub mod status;

pub use crd::{ServiceName, Trust, TrustSpec, TrustState, TrustStatus};
pub use reconcile::{error_policy, reconcile, Context, OperatorError, FINALIZER, MANAGER};

/// The CRD as YAML, as `crdgen` prints it and `k8s/trust-crd.yaml` holds it.
pub fn crd_yaml() -> Result<String, serde_norway::Error> {
    use kube::CustomResourceExt;
    let header = "# Generated from services/tenant-operator/src/crd.rs by\n# `cargo run -p tessera-tenant-operator --bin crdgen`; do not edit.\n";
    Ok(format!(
        "{header}{}",
        serde_norway::to_string(&Trust::crd())?
    ))
}
