//! Counts and latencies per operation, for one interval and for the whole run.
use crate::ops::Op;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default, Clone)]
pub struct OpStats {
    pub count: u64,
    /// Answers that were not the expected ones, by status (0: no answer at all).
    pub unexpected: BTreeMap<u16, u64>,
    pub server_errors: u64,
    latencies_us: Vec<u32>,
}

#[derive(Default, Clone)]
pub struct Stats {
    pub ops: BTreeMap<Op, OpStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    pub op: &'static str,
    pub count: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub server_errors: u64,
    pub unexpected: BTreeMap<u16, u64>,
}

impl Stats {
    pub fn record(&mut self, op: Op, status: Option<u16>, took: Duration) {
        let s = self.ops.entry(op).or_default();
        s.count += 1;
        s.latencies_us
            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        match status {
            Some(code) if op.expected(code) => {}
            Some(code) => {
                *s.unexpected.entry(code).or_default() += 1;
                if code >= 500 {
                    s.server_errors += 1;
                }
            }
            None => *s.unexpected.entry(0).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: &Stats) {
        for (op, o) in &other.ops {
            let s = self.ops.entry(*op).or_default();
            s.count += o.count;
            s.server_errors += o.server_errors;
            s.latencies_us.extend_from_slice(&o.latencies_us);
            for (code, n) in &o.unexpected {
                *s.unexpected.entry(*code).or_default() += n;
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.ops.values().map(|s| s.count).sum()
    }

    pub fn server_errors(&self) -> u64 {
        self.ops.values().map(|s| s.server_errors).sum()
    }

    pub fn unexpected(&self) -> u64 {
        self.ops
            .values()
            .map(|s| s.unexpected.values().sum::<u64>())
            .sum()
    }

    /// Latency percentile over every operation, in ms.
    pub fn overall_percentile(&self, p: f64) -> f64 {
        let mut all: Vec<u32> = self
            .ops
            .values()
            .flat_map(|s| s.latencies_us.iter().copied())
            .collect();
        percentile(&mut all, p)
    }

    pub fn summary(&self, over: Duration) -> Vec<OpSummary> {
        let secs = over.as_secs_f64().max(0.001);
        self.ops
            .iter()
            .map(|(op, s)| {
                let mut l = s.latencies_us.clone();
                OpSummary {
                    op: op.name(),
                    count: s.count,
                    per_second: s.count as f64 / secs,
                    p50_ms: percentile(&mut l, 50.0),
                    p95_ms: percentile(&mut l, 95.0),
                    p99_ms: percentile(&mut l, 99.0),
                    max_ms: percentile(&mut l, 100.0),
                    server_errors: s.server_errors,
                    unexpected: s.unexpected.clone(),
                }
            })
            .collect()
    }
}

/// The `p`th percentile (nearest rank) of `values`, in ms; 0 when empty.
pub fn percentile(values: &mut [u32], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    let i = rank.clamp(1, values.len()) - 1;
    f64::from(values[i]) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut v, 100.0), 100.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
    }

    #[test]
    fn unexpected_and_server_errors_are_counted_apart() {
        let mut s = Stats::default();
        s.record(Op::Read, Some(200), Duration::from_millis(1));
        s.record(Op::Read, Some(404), Duration::from_millis(1));
        s.record(Op::Read, Some(503), Duration::from_millis(1));
        s.record(Op::Register, None, Duration::from_millis(1));
        assert_eq!(s.total(), 4);
        assert_eq!(s.server_errors(), 1);
        assert_eq!(s.unexpected(), 3);
    }
}
