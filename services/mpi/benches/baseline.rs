//! MPI baseline: registrations per second, and read-by-NHS-number latency, with N patients in
//! one tenant — over HTTP against real PostgreSQL, Redis and the broker.
//!
//! `cargo bench -p tessera-mpi --bench baseline` (infrastructure from `cargo xtask infra`).
//! `BENCH_PATIENTS` (default 100000), `BENCH_READS` (20000), `BENCH_CONCURRENCY` (32).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_mpi::{Application, Config};
use tessera_testkit as kit;

mod common;
use common::{drive, env, nhs_numbers, percentile};

#[tokio::main]
async fn main() {
    let patients = env("BENCH_PATIENTS", 100_000);
    let reads = env("BENCH_READS", 20_000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let tenant = kit::unique_ods();
    let kafka = kit::kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_mpi_test").await;
    config.database_max_connections = 32;
    config.redis_url = kit::redis_url();
    config.kafka = kafka.clone();
    config.auth = idp.auth_config();
    config.tenancy.only = Some(vec![tenant.clone()]);
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let token = idp.token(&tenant, &["B0825"]);
    let ready = kit::wait_until(Duration::from_secs(60), || async {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .map(|r| r.status() == 200)
            .unwrap_or(false)
    })
    .await;
    assert!(ready);

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
    println!(
        "tenant {tenant} (schema t_{}) left in database tessera_mpi_test",
        tenant.to_lowercase()
    );
    shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(300)).await;
}
