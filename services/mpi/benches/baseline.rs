//! MPI baseline: registrations per second, and read-by-NHS-number latency, with N patients in
//! one tenant — over HTTP against real PostgreSQL, Redis and the broker.
//!
//! `cargo bench -p tessera-mpi --bench baseline` (infrastructure from `cargo xtask infra`).
//! `BENCH_PATIENTS` (default 100000), `BENCH_READS` (20000), `BENCH_CONCURRENCY` (32).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::sync::Arc;

mod common;
use common::{drive, env, nhs_numbers, percentile, Bench};

#[tokio::main]
async fn main() {
    let patients = env("BENCH_PATIENTS", 100_000);
    let reads = env("BENCH_READS", 20_000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let bench = Bench::start(concurrency).await;
    let (client, base, token) = (
        bench.client.clone(),
        bench.base.clone(),
        bench.token.clone(),
    );

    let numbers = Arc::new(nhs_numbers(patients));
    let families = [
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Khan",
    ];
    let (c, b, t, n) = (client.clone(), base.clone(), token.clone(), numbers.clone());
    let (elapsed, lat, failures) = drive(patients, concurrency, move |i| {
        let (c, b, t, n) = (c.clone(), b.clone(), t.clone(), n.clone());
        Box::pin(async move {
            let body = json!({
                "nhs_number": n[i],
                "names": [{ "family": families[i % families.len()], "given": [format!("Given{i}")] }],
                "birth_date": format!("{}-{:02}-{:02}", 1930 + i % 90, 1 + i % 12, 1 + i % 28),
                "administrative_sex": if i % 2 == 0 { "female" } else { "male" },
                "addresses": [{ "lines": [format!("{} High Street", i % 300)], "postcode": "LS1 4AP" }]
            });
            c.post(format!("{b}/patients")).bearer_auth(&t).json(&body).send().await.map(|r| r.status() == 201).unwrap_or(false)
        })
    })
    .await;
    println!("registrations: {patients} in {:.1}s = {:.0}/s (concurrency {concurrency}); latency p50 {:.1} ms, p99 {:.1} ms; failures {failures}",
        elapsed.as_secs_f64(), patients as f64 / elapsed.as_secs_f64(), percentile(&lat, 0.5), percentile(&lat, 0.99));

    let read_concurrency = 16.min(concurrency);
    for (label, fhir) in [("JSON ?nhs_number=", false), ("FHIR ?identifier=", true)] {
        let (c, b, t, n) = (client.clone(), base.clone(), token.clone(), numbers.clone());
        let (elapsed, lat, failures) = drive(reads, read_concurrency, move |i| {
            let (c, b, t, n) = (c.clone(), b.clone(), t.clone(), n.clone());
            Box::pin(async move {
                let nhs = &n[(i * 7919) % n.len()];
                let url = if fhir {
                    format!("{b}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}")
                } else {
                    format!("{b}/patients?nhs_number={nhs}")
                };
                c.get(url)
                    .bearer_auth(&t)
                    .send()
                    .await
                    .map(|r| r.status() == 200)
                    .unwrap_or(false)
            })
        })
        .await;
        println!("read by NHS number ({label}): {reads} in {:.1}s = {:.0}/s (concurrency {read_concurrency}); latency p50 {:.2} ms, p99 {:.2} ms; failures {failures}",
            elapsed.as_secs_f64(), reads as f64 / elapsed.as_secs_f64(), percentile(&lat, 0.5), percentile(&lat, 0.99));
    }
    bench.stop().await;
}
