//! Reconciling one `Trust`: publish its tenant record, ask every service serving it how far
//! each has come, and write what they said as its status (server-side apply). A finalizer
//! turns deletion into suspension: every service stops serving the trust and keeps its data.
use crate::crd::{ServiceName, Trust, TrustState, TrustStatus};
use crate::metrics::OperatorMetrics;
use crate::probe::{self, ServiceEndpoint};
use crate::status::Observed;
use kube::api::{Api, Patch, PatchParams, ResourceExt};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{finalizer, Event};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_proto::tenancy::v1::{TenantRecord, TenantSettings, TenantStatus};
use tessera_tenancy::{KafkaSettings, TenantId};

/// Removed by the operator once the trust is suspended everywhere.
pub const FINALIZER: &str = "tessera.nhs.uk/suspend-on-delete";
/// The field manager of the status the operator applies.
pub const MANAGER: &str = "tessera-tenant-operator";

/// Errors of a reconcile, each with a stable code (metrics' `code` label, the status's
/// `lastError`).
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("trust.invalid-spec: {0}")]
    InvalidSpec(String),
    #[error("trust.publish-failed: {0}")]
    Publish(String),
    #[error("kube.api: {0}")]
    Kube(#[from] kube::Error),
    #[error("trust.finalizer: {0}")]
    Finalizer(String),
    /// Deleted, and not every service has said it stopped serving the trust: the finalizer
    /// stays and the reconcile is retried.
    #[error("trust.suspending: {0}")]
    Suspending(String),
}

impl OperatorError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidSpec(_) => "trust.invalid-spec",
            Self::Publish(_) => "trust.publish-failed",
            Self::Kube(_) => "kube.api",
            Self::Finalizer(_) => "trust.finalizer",
            Self::Suspending(_) => "trust.suspending",
        }
    }
}

/// What every reconcile shares.
pub struct Context {
    pub client: kube::Client,
    pub kafka: KafkaSettings,
    /// Every service the platform runs, with its management port.
    pub services: Vec<ServiceEndpoint>,
    pub http: reqwest::Client,
    pub metrics: OperatorMetrics,
    /// While a trust is settling (a service still provisioning), how soon to look again.
    pub settling_every: Duration,
    /// Once settled: the periodic re-check, which also republishes the record (a rebuilt
    /// broker's tenants topic gets it back).
    pub settled_every: Duration,
    /// Consecutive failures per trust, for back-off.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(
        client: kube::Client,
        kafka: KafkaSettings,
        services: Vec<ServiceEndpoint>,
        metrics: OperatorMetrics,
    ) -> Self {
        Self {
            client,
            kafka,
            services,
            http: reqwest::Client::new(),
            metrics,
            settling_every: Duration::from_secs(5),
            settled_every: Duration::from_secs(300),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn succeeded(&self, trust: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(trust);
        }
    }

    /// 5 s, 10 s, 20 s … at most 5 minutes.
    fn back_off(&self, trust: &str) -> Duration {
        let n = self
            .failures
            .lock()
            .map(|mut f| {
                let n = f.entry(trust.to_string()).or_insert(0);
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(1);
        Duration::from_secs(5u64.saturating_mul(1 << (n - 1).min(6)).min(300))
    }
}

/// The controller's reconcile.
pub async fn reconcile(trust: Arc<Trust>, ctx: Arc<Context>) -> Result<Action, OperatorError> {
    ctx.metrics.reconciles.inc();
    let api: Api<Trust> = Api::all(ctx.client.clone());
    let name = trust.name_any();
    let action = finalizer(&api, FINALIZER, trust, |event| async {
        match event {
            Event::Apply(t) => converge(&t, &ctx, &api, false).await,
            Event::Cleanup(t) => converge(&t, &ctx, &api, true).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => OperatorError::Finalizer(other.to_string()),
    })?;
    ctx.succeeded(&name);
    Ok(action)
}

/// The controller's error policy: count the failure, back off per trust.
pub fn error_policy(trust: Arc<Trust>, error: &OperatorError, ctx: Arc<Context>) -> Action {
    ctx.metrics
        .failures
        .with_label_values(&[error.code()])
        .inc();
    tracing::warn!(trust = %trust.name_any(), code = error.code(), error = %error, "reconcile failed");
    Action::requeue(ctx.back_off(&trust.name_any()))
}

/// Publishes the record (suspended when `deleting`), reads every service's report, writes
/// the status. A delete finishes (the finalizer is removed) only once every service has
/// stopped serving the trust.
async fn converge(
    trust: &Trust,
    ctx: &Context,
    api: &Api<Trust>,
    deleting: bool,
) -> Result<Action, OperatorError> {
    let spec = &trust.spec;
    let tenant = match TenantId::parse(&spec.ods_code) {
        Ok(t) => t,
        Err(e) => {
            // Said in the status, where whoever applied it looks; nothing is published.
            let error = OperatorError::InvalidSpec(format!("odsCode: {e}"));
            let status =
                crate::status::invalid(trust, &error.to_string(), &chrono::Utc::now().to_rfc3339());
            write_status(api, trust, status).await?;
            return Err(error);
        }
    };
    let listed: Vec<ServiceName> = if spec.services.is_empty() {
        ctx.services
            .iter()
            .filter_map(|s| ServiceName::parse(&s.name))
            .collect()
    } else {
        spec.services.clone()
    };
    let state = if deleting {
        TrustState::Suspended
    } else {
        spec.state
    };
    let record = TenantRecord {
        ods_code: tenant.to_string(),
        name: spec.name.clone(),
        status: match state {
            TrustState::Active => TenantStatus::Active,
            TrustState::Suspended => TenantStatus::Suspended,
        } as i32,
        updated_at: chrono::Utc::now().to_rfc3339(),
        services: if spec.services.is_empty() {
            Vec::new()
        } else {
            listed.iter().map(|s| s.as_str().to_string()).collect()
        },
        settings: Some(TenantSettings {
            rate_limit_per_second: spec.settings.rate_limit_per_second,
        }),
    };
    let published = tessera_tenancy::publish_tenant(&ctx.kafka, &record)
        .await
        .map_err(|e| e.to_string());
    let services = if published.is_ok() {
        let ods = tenant.as_str();
        let probes = listed.iter().map(|name| async move {
            match ctx.services.iter().find(|s| s.name == name.as_str()) {
                Some(endpoint) => probe::probe(&ctx.http, endpoint, ods).await,
                None => probe::not_deployed(*name),
            }
        });
        futures::future::join_all(probes).await
    } else {
        trust
            .status
            .as_ref()
            .map(|s| s.services.clone())
            .unwrap_or_default()
    };
    let observed = Observed {
        generation: trust.metadata.generation,
        state,
        published: published.clone(),
        services,
        previous: trust.status.as_ref(),
        deleting,
    };
    write_status(
        api,
        trust,
        observed.status(&chrono::Utc::now().to_rfc3339()),
    )
    .await?;
    let name = trust.name_any();
    // A suspended trust is not expected to be served: not reported, so no alert for it.
    if state == TrustState::Suspended {
        let _ = ctx
            .metrics
            .trust_ready
            .remove_label_values(&[tenant.as_str()]);
    } else {
        ctx.metrics
            .trust_ready
            .with_label_values(&[tenant.as_str()])
            .set(i64::from(observed.ready()));
    }
    if let Err(e) = published {
        return Err(OperatorError::Publish(e));
    }
    let settled = observed.settled();
    tracing::info!(trust = %name, ods = %tenant, settled, deleting, "trust reconciled");
    if deleting {
        if settled {
            ctx.metrics
                .trust_ready
                .remove_label_values(&[tenant.as_str()])
                .ok();
            // Returning Ok lets the finalizer helper remove the finalizer.
            return Ok(Action::await_change());
        }
        // Not every service has stopped serving it: keep the finalizer, look again.
        return Err(OperatorError::Suspending(format!(
            "{name}: waiting for every service to suspend the trust"
        )));
    }
    Ok(Action::requeue(if settled {
        ctx.settled_every
    } else {
        ctx.settling_every
    }))
}

async fn write_status(
    api: &Api<Trust>,
    trust: &Trust,
    status: TrustStatus,
) -> Result<(), OperatorError> {
    let patch = Patch::Apply(serde_json::json!({
        "apiVersion": "tessera.nhs.uk/v1alpha1",
        "kind": "Trust",
        "status": status,
    }));
    api.patch_status(
        &trust.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &patch,
    )
    .await?;
    Ok(())
}
