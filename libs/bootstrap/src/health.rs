//! `/livez` says the process is alive; `/readyz` says it can serve: every registered check
//! (database, broker, tenant schemas) passes. Kubernetes routes traffic only to ready pods.
use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::Arc;

/// One thing readiness depends on. `check` returns a detail on failure.
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>>;
}

#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

#[derive(Debug, Serialize)]
pub struct ReadinessReport {
    pub ready: bool,
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
        let results = futures::future::join_all(self.checks.iter().map(|c| async move {
            let r = tokio::time::timeout(std::time::Duration::from_secs(2), c.check()).await;
            (c.name(), r)
        }))
        .await;
        for (name, r) in results {
            let value = match r {
                Ok(Ok(detail)) => serde_json::json!({ "ok": true, "detail": detail }),
                Ok(Err(e)) => {
                    ready = false;
                    serde_json::json!({ "ok": false, "error": e })
                }
                Err(_) => {
                    ready = false;
                    serde_json::json!({ "ok": false, "error": "timed out after 2s" })
                }
            };
            checks.insert(name.to_string(), value);
        }
        ReadinessReport { ready, checks }
    }
}
