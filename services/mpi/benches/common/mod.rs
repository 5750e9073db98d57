//! Shared by the MPI benchmarks: workload driver, percentiles, NHS numbers.
#![allow(dead_code)]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The i-th valid NHS number in the test ranges 998/999xxxxxxx (stems with check value 10
/// skipped).
pub fn nhs_numbers(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    // 998 and 999: never issued (synthetic/test), room for 1.8 million valid numbers.
    let mut stem: u64 = 998_000_000;
    while out.len() < n {
        let s = stem.to_string();
        let sum: u32 = s
            .bytes()
            .zip((2..=10).rev())
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c),
        };
        if let Some(c) = check {
            out.push(format!("{s}{c}"));
        }
        stem += 1;
    }
    out
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn drive(
    total: usize,
    concurrency: usize,
    work: impl Fn(usize) -> futures::future::BoxFuture<'static, bool> + Send + Sync + 'static,
) -> (Duration, Vec<Duration>, usize) {
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (work, next) = (work.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                if !work(i).await {
                    failures += 1;
                }
                lat.push(t.elapsed());
            }
            (lat, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    all.sort();
    (elapsed, all, failures)
}
