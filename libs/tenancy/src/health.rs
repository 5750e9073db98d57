//! Readiness: the database answers, every tenant this deployment serves is provisioned, and
//! the broker answers (reported; required only where configured, ADR 19).
use crate::{KafkaSettings, TenantDb, TenantRegistry, TenantState};
use futures::future::BoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::ReadinessCheck;

pub struct Database(pub TenantDb);

impl ReadinessCheck for Database {
    fn name(&self) -> &'static str {
        "database"
    }
    fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>> {
        Box::pin(async move {
            self.0
                .ping()
                .await
                .map(|_| serde_json::json!("ok"))
                .map_err(|e| e.to_string())
        })
    }
}

/// The broker answers metadata. Not required for readiness unless configured
/// (`kafka.required_for_readiness`): a service serves through its outbox while the broker is
/// away, and an unready pod would be taken out of service for a cause it rides out (ADR 19).
pub struct Broker(pub Arc<BaseConsumer>, String, bool);

impl Broker {
    pub fn new(kafka: &KafkaSettings) -> Result<Self, String> {
        let c: BaseConsumer = kafka
            .client_config()
            .set("group.id", "tessera-readiness")
            .create()
            .map_err(|e| e.to_string())?;
        Ok(Self(
            Arc::new(c),
            kafka.tenants_topic.clone(),
            kafka.required_for_readiness,
        ))
    }
}

impl ReadinessCheck for Broker {
    fn name(&self) -> &'static str {
        "broker"
    }
    fn required(&self) -> bool {
        self.2
    }
    fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>> {
        let c = self.0.clone();
        let topic = self.1.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                c.fetch_metadata(Some(&topic), Duration::from_millis(1500))
                    .map(|m| serde_json::json!({ "brokers": m.brokers().len() }))
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}

/// Every tenant recorded here provisioned, once: then the service is ready, and stays ready
/// while trusts onboarded later are provisioned. Readiness is the pod's, not a trust's: a
/// trust being migrated must not take every replica out of rotation at once for every other
/// trust (found onboarding 200 trusts under load, issue 14); its own requests meanwhile get a
/// retryable 503 `tenant.not-yet-known`. `/readyz` still shows each trust's state.
pub struct Tenants {
    registry: Arc<TenantRegistry>,
    served: std::sync::atomic::AtomicBool,
}

impl Tenants {
    pub fn new(registry: Arc<TenantRegistry>) -> Self {
        Self {
            registry,
            served: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl ReadinessCheck for Tenants {
    fn name(&self) -> &'static str {
        "tenants"
    }
    fn check(&self) -> BoxFuture<'_, Result<serde_json::Value, String>> {
        Box::pin(async move {
            let snapshot = self.registry.snapshot();
            let detail: serde_json::Map<String, serde_json::Value> = snapshot
                .iter()
                .map(|(t, s)| (t.to_string(), serde_json::to_value(s).unwrap_or_default()))
                .collect();
            // The tenants recorded here are enough to serve (ADR 19); the topic may be
            // unreachable for as long as the broker is.
            if !self.registry.recalled() {
                return Err("still reading the recorded tenants".into());
            }
            let pending: Vec<String> = snapshot
                .iter()
                .filter(|(_, s)| !matches!(s, TenantState::Ready | TenantState::Suspended))
                .map(|(t, _)| t.to_string())
                .collect();
            let served = &self.served;
            if pending.is_empty() {
                served.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            if pending.is_empty() || served.load(std::sync::atomic::Ordering::Relaxed) {
                Ok(serde_json::Value::Object(detail))
            } else {
                Err(format!("not yet provisioned: {}", pending.join(", ")))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    #[tokio::test]
    async fn a_trust_onboarded_later_does_not_take_a_serving_instance_out_of_rotation() {
        let registry = TenantRegistry::new();
        let rxr = TenantId::parse("RXR").unwrap();
        registry.set(rxr.clone(), TenantState::Provisioning);
        registry.mark_recalled();
        let check = Tenants::new(registry.clone());
        assert!(
            check.check().await.is_err(),
            "not ready before the recorded trusts are"
        );
        registry.set(rxr, TenantState::Ready);
        assert!(check.check().await.is_ok());
        registry.set(TenantId::parse("Z0001").unwrap(), TenantState::Provisioning);
        let detail = check.check().await.unwrap();
        assert_eq!(detail["Z0001"]["state"], "provisioning", "{detail}");
    }
}
