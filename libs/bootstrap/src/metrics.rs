//! Prometheus metrics. Labels are route patterns, methods, statuses and tenant ODS codes —
//! never a path with an id in it, never patient data.
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub rate_limited: IntCounterVec,
    /// HL7 v2 messages by tenant and ACK code (AA, AE, AR).
    pub hl7_messages: IntCounterVec,
    pub outbox_published: IntCounterVec,
    pub outbox_pending: IntGaugeVec,
    /// Age of the oldest event waiting in a tenant's outbox (the relay's lag), seconds.
    pub outbox_oldest_seconds: GaugeVec,
    pub events_consumed: IntCounterVec,
    /// Messages on a consumer's topics not yet consumed (librdkafka's `consumer_lag`).
    pub consumer_lag: IntGaugeVec,
    /// 1 while this instance serves a trust (provisioned, not suspended), else 0.
    pub tenant_ready: IntGaugeVec,
    /// Database connections by state (`in_use`, `idle`, `max`), sampled at each scrape.
    pub db_pool: IntGaugeVec,
    /// Break-glass accesses granted, per tenant (the access service).
    pub break_glass: IntCounterVec,
    /// Audit chain verifications, per tenant and result (`intact`, `broken`).
    pub audit_chain_verifications: IntCounterVec,
}

impl Metrics {
    pub fn new(service: &str) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(
            Some("tessera".into()),
            Some(
                [("service".to_string(), service.to_string())]
                    .into_iter()
                    .collect(),
            ),
        )?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["method", "route"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limited_total",
                "Requests refused with 429, per tenant",
            ),
            &["tenant"],
        )?;
        let hl7_messages = IntCounterVec::new(
            Opts::new(
                "hl7_messages_total",
                "HL7 v2 messages answered, by tenant and ACK code",
            ),
            &["tenant", "ack"],
        )?;
        let outbox_published = IntCounterVec::new(
            Opts::new(
                "outbox_published_total",
                "Events the relay published, per tenant",
            ),
            &["tenant"],
        )?;
        let outbox_pending = IntGaugeVec::new(
            Opts::new(
                "outbox_pending",
                "Events waiting in the outbox at the last poll, per tenant",
            ),
            &["tenant"],
        )?;
        let events_consumed = IntCounterVec::new(
            Opts::new(
                "events_consumed_total",
                "Events consumed, by topic stream and result",
            ),
            &["stream", "result"],
        )?;
        let outbox_oldest_seconds = GaugeVec::new(
            Opts::new(
                "outbox_oldest_seconds",
                "Age of the oldest event waiting in the outbox at the last poll, per tenant",
            ),
            &["tenant"],
        )?;
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "consumer_lag_messages",
                "Messages on the stream's topics this consumer has not yet consumed",
            ),
            &["stream"],
        )?;
        let tenant_ready = IntGaugeVec::new(
            Opts::new(
                "tenant_ready",
                "1 while this instance serves the trust (provisioned, not suspended), else 0",
            ),
            &["tenant"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections: in_use, idle, and the pool's max",
            ),
            &["state"],
        )?;
        let break_glass = IntCounterVec::new(
            Opts::new(
                "break_glass_total",
                "Break-glass accesses granted, per tenant",
            ),
            &["tenant"],
        )?;
        let audit_chain_verifications = IntCounterVec::new(
            Opts::new(
                "audit_chain_verifications_total",
                "Audit chain verifications, per tenant and result (intact, broken)",
            ),
            &["tenant", "result"],
        )?;
        registry.register(Box::new(outbox_oldest_seconds.clone()))?;
        registry.register(Box::new(consumer_lag.clone()))?;
        registry.register(Box::new(tenant_ready.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(break_glass.clone()))?;
        registry.register(Box::new(audit_chain_verifications.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(hl7_messages.clone()))?;
        registry.register(Box::new(outbox_published.clone()))?;
        registry.register(Box::new(outbox_pending.clone()))?;
        registry.register(Box::new(events_consumed.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            rate_limited,
            hl7_messages,
            outbox_published,
            outbox_pending,
            outbox_oldest_seconds,
            events_consumed,
            consumer_lag,
            tenant_ready,
            db_pool,
            break_glass,
            audit_chain_verifications,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let families = self.registry.gather();
        if TextEncoder::new().encode(&families, &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
