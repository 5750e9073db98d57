//! `/livez` says the process is alive; `/readyz` says it can serve: every registered check
//! (database, broker, tenant schemas) passes. Kubernetes routes traffic only to ready pods.
use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::Arc;

/// One thing readiness depends on. `check` returns a detail on failure.
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>>;
    /// Whether a failure makes the service unready. A check that is not required is still
    /// reported, and its failure marks the report `degraded` (e.g. the broker: the service
    /// serves through its outbox while the broker is away, ADR 19).
    fn required(&self) -> bool {
        true
    }
}

#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

#[derive(Debug, Serialize)]
pub struct ReadinessReport {
    pub ready: bool,
    /// A check that is not required failed: serving, but something needs attention.
    pub degraded: bool,
    pub checks: serde_json::Map<String, serde_json::Value>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, check: Arc<dyn ReadinessCheck>) -> Self {
        self.checks.push(check);
        self
    }

    pub async fn report(&self) -> ReadinessReport {
        let mut checks = serde_json::Map::new();
        let mut ready = true;
        let mut degraded = false;
        let results = futures::future::join_all(self.checks.iter().map(|c| async move {
            let r = tokio::time::timeout(std::time::Duration::from_secs(2), c.check()).await;
            (c.name(), c.required(), r)
        }))
        .await;
        for (name, required, r) in results {
            let failed = |error: serde_json::Value| serde_json::json!({ "ok": false, "required": required, "error": error });
            let value = match r {
                Ok(Ok(detail)) => serde_json::json!({ "ok": true, "detail": detail }),
                Ok(Err(e)) => failed(e.into()),
                Err(_) => failed("timed out after 2s".into()),
            };
            if value["ok"] == false {
                if required {
                    ready = false;
                } else {
                    degraded = true;
                }
            }
            checks.insert(name.to_string(), value);
        }
        ReadinessReport {
            ready,
            degraded,
            checks,
        }
    }
}
