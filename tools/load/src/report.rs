//! What a load run reports: throughput, latency, errors, backlogs, the timeline, and what a
//! soak must show; rendered as Markdown for `docs/benchmarks/`.
use crate::observe::Sample;
use crate::stats::OpSummary;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    pub at_seconds: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub server_errors: u64,
    pub unexpected: u64,
    pub sample: Option<Sample>,
    /// Percent of one core per process group over the interval.
    pub cpu: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seconds: f64,
    pub connections: usize,
    pub target_rate: u32,
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub server_errors: u64,
    pub unexpected: u64,
    pub broker_failures: usize,
    pub max_outbox_backlog: i64,
    pub max_audit_lag: i64,
    /// Seconds after the load stopped until outboxes were empty and the audit store held
    /// every record; `None` if that did not happen within the settle time.
    pub drained_after_seconds: Option<f64>,
    pub final_sample: Option<Sample>,
    /// Each trust's `GET /audit/verify` `intact`.
    pub chains_intact: Vec<(String, bool)>,
    pub ops: Vec<OpSummary>,
    pub timeline: Vec<Interval>,
}

impl Report {
    /// What a soak must show (issue 11): no 5xx, no broker failure, the backlog drained, the
    /// audit store complete, every chain intact.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.server_errors > 0 {
            f.push(format!("{} server errors", self.server_errors));
        }
        if self.broker_failures > 0 {
            f.push(format!("{} failed broker probes", self.broker_failures));
        }
        if self.drained_after_seconds.is_none() {
            f.push("backlogs did not drain in the settle time".into());
        }
        if self.chains_intact.iter().any(|(_, ok)| !ok) {
            f.push(format!("audit chains: {:?}", self.chains_intact));
        }
        f
    }
}

/// The report as Markdown, for `docs/benchmarks/`.
pub fn render(r: &Report) -> String {
    let mut s = format!(
        "{} requests in {:.0} s over {} connections: **{:.0} req/s**, p50 {:.1} ms, p99 {:.1} ms; \
         5xx {}, other unexpected {}; broker probe failures {}; max outbox backlog {}, max audit lag {}; \
         drained {} after the load; audit chains {:?}\n\n\
         | operation | count | req/s | p50 ms | p95 ms | p99 ms | max ms | 5xx | unexpected |\n|---|---|---|---|---|---|---|---|---|\n",
        r.requests,
        r.seconds,
        r.connections,
        r.requests_per_second,
        r.p50_ms,
        r.p99_ms,
        r.server_errors,
        r.unexpected,
        r.broker_failures,
        r.max_outbox_backlog,
        r.max_audit_lag,
        r.drained_after_seconds
            .map_or("NOT".to_string(), |d| format!("{d:.1} s")),
        r.chains_intact,
    );
    for o in &r.ops {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:?} |\n",
            o.op,
            o.count,
            o.per_second,
            o.p50_ms,
            o.p95_ms,
            o.p99_ms,
            o.max_ms,
            o.server_errors,
            o.unexpected
        ));
    }
    s
}
