//! `/livez` says the process is alive; `/readyz` says it can serve: every registered check
//! (database, broker, tenant schemas) passes. Kubernetes routes traffic only to ready pods.
use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Set at shutdown: the process still serves, but asks to be taken out of rotation.
    draining: Arc<AtomicBool>,
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

    /// From now on `/readyz` says "draining": the load balancer (Kubernetes' endpoints, the
    /// local round-robin) stops sending new requests while in-flight ones finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub async fn report(&self) -> ReadinessReport {
        let mut checks = serde_json::Map::new();
        let mut ready = true;
        if self.is_draining() {
            ready = false;
            checks.insert(
                "shutdown".into(),
                serde_json::json!({ "ok": false, "required": true, "error": "draining" }),
            );
        }
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

impl ReadinessReport {
    /// The same verdict with each check reduced to whether it passed (and whether it is
    /// required): what an unauthenticated caller may see.
    pub fn summary(self) -> Self {
        let checks = self
            .checks
            .into_iter()
            .map(|(name, v)| {
                let mut kept = serde_json::Map::new();
                for key in ["ok", "required"] {
                    if let Some(x) = v.get(key) {
                        kept.insert(key.to_string(), x.clone());
                    }
                }
                (name, serde_json::Value::Object(kept))
            })
            .collect();
        Self { checks, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fails;
    impl ReadinessCheck for Fails {
        fn name(&self) -> &'static str {
            "tenants"
        }
        fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>> {
            Box::pin(async { Err("RXR1 provisioning".to_string()) })
        }
    }

    #[tokio::test]
    async fn the_summary_keeps_the_verdict_and_drops_every_detail() {
        let full = Readiness::new().with(Arc::new(Fails)).report().await;
        assert!(serde_json::to_string(&full).is_ok_and(|s| s.contains("RXR1")));
        let summary = full.summary();
        assert!(!summary.ready);
        let text = serde_json::to_string(&summary).unwrap_or_default();
        assert!(!text.contains("RXR1"), "{text}");
        assert_eq!(summary.checks["tenants"]["ok"], false);
    }

    #[tokio::test]
    async fn a_draining_process_is_not_ready_though_every_check_passes() {
        let readiness = Readiness::new();
        assert!(readiness.report().await.ready);
        let clone = readiness.clone();
        clone.drain();
        let report = readiness.report().await;
        assert!(!report.ready, "the flag is shared by every clone");
        assert_eq!(report.checks["shutdown"]["error"], "draining");
    }
}
