//! The operator's Prometheus metrics: reconciles, failures by error code, and each trust's
//! readiness (the `TrustNotReady` alert).
use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};

#[derive(Clone)]
pub struct OperatorMetrics {
    registry: Registry,
    pub reconciles: IntCounter,
    pub failures: IntCounterVec,
    pub trust_ready: IntGaugeVec,
}

impl OperatorMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("tessera_operator".into()), None)?;
        let reconciles = IntCounter::new("reconciles_total", "Trust reconciles started")?;
        let failures = IntCounterVec::new(
            Opts::new(
                "reconcile_failures_total",
                "Trust reconciles that failed, by error code",
            ),
            &["code"],
        )?;
        let trust_ready = IntGaugeVec::new(
            Opts::new(
                "trust_ready",
                "1 when every service serving the trust reports it ready, else 0 (suspended trusts are not counted)",
            ),
            &["trust"],
        )?;
        registry.register(Box::new(reconciles.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        registry.register(Box::new(trust_ready.clone()))?;
        Ok(Self {
            registry,
            reconciles,
            failures,
            trust_ready,
        })
    }

    pub fn render(&self) -> String {
        use prometheus::Encoder;
        let mut buf = Vec::new();
        if prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
