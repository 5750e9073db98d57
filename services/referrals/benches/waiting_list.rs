//! The waiting list at scale: with BENCH_PATHWAYS (default 100,000) open RTT pathways in one
//! trust (plus half as many stopped and a twentieth nullified, which the list must skip), the
//! time to answer the waiting list over HTTP — JSON (first page and the 92% standard over the
//! whole list), the whole list as CSV, the standard by specialty and consultant, the breach
//! forecast, one specialty — against real PostgreSQL, Redis and the broker, each request
//! authenticated, rate-limited and audited as in production. Then the arithmetic alone
//! (`compute`: weeks waited, bands, breach dates, sort) on the same number of rows in memory.
//!
//! `cargo bench -p tessera-referrals --bench waiting_list` (infrastructure from `cargo xtask
//! infra`). `BENCH_PATHWAYS`, `BENCH_REQUESTS` (per measure, default 20).
//!
//! The pathways are bulk-loaded with SQL: the same columns as received ones, each with the
//! stored period `libs/rtt` would derive, without referrals, clock events or outbox rows
//! (the list reads only pathways and periods).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration as Days, Utc};
use sea_orm::{ConnectionTrait, Database};
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_referrals::app::waiting::compute;
use tessera_referrals::store::WaitingRow;
use tessera_referrals::{Application, Config};
use tessera_testkit as kit;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let n = env("BENCH_PATHWAYS", 100_000);
    let requests = env("BENCH_REQUESTS", 20);
    let tenant = kit::unique_ods();
    let (kafka, _broker) = kit::bench_kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_referrals_test").await;
    config.redis_url = kit::redis_url();
    config.kafka = kafka;
    config.auth = idp.auth_config();
    config.tenancy.only = Some(vec![tenant.clone()]);
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    config.consumer_group_prefix = format!("referrals-bench-{}", uuid::Uuid::new_v4());
    let db_url = config.database_url.clone();
    let db_url_store = db_url.clone();
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let management = format!("http://127.0.0.1:{}", app.management_port());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = reqwest::Client::new();
    assert!(kit::wait_ready(&client, &management, std::slice::from_ref(&tenant)).await);
    let token = idp.token(&tenant, &["B1110"]);

    // Load: n open, n/2 stopped (treated), n/20 nullified; starts spread over 0–300 days ago,
    // ten specialties, fifty consultants.
    let schema = format!("t_{}", tenant.to_lowercase());
    let db = Database::connect(db_url).await.unwrap();
    let t0 = Instant::now();
    let total = n + n / 2 + n / 20;
    db.execute_unprepared(&format!(
        r#"
INSERT INTO {schema}.pathway (id, patient_id, ppid, issuer, specialty, treatment_function, consultant, team)
SELECT md5('p' || i)::uuid, md5('patient' || i)::uuid::text, lpad(i::text, 20, '0'), '{tenant}',
       (100 + (i % 10) * 10)::text, (100 + (i % 10) * 10)::text, 'cons-' || (i % 50), 'TEAM' || (i % 10)
  FROM generate_series(1, {total}) AS i;
INSERT INTO {schema}.rtt_period (pathway_id, n, start_date, start_code, end_date, state, stop_code,
                                  patient_id, ppid, issuer, specialty, treatment_function, consultant, team)
SELECT p.id, 0, current_date - ((i * 7919) % 300),
       10,
       CASE WHEN i <= {n} THEN NULL ELSE current_date - ((i * 7919) % 300) / 2 END,
       CASE WHEN i <= {n} THEN 'open' WHEN i <= {n} + {half} THEN 'stopped' ELSE 'nullified' END,
       CASE WHEN i <= {n} THEN NULL WHEN i <= {n} + {half} THEN 30 ELSE 33 END,
       p.patient_id, p.ppid, p.issuer, p.specialty, p.treatment_function, p.consultant, p.team
  FROM generate_series(1, {total}) AS i JOIN {schema}.pathway p ON p.id = md5('p' || i)::uuid;
ANALYZE {schema}.pathway;
ANALYZE {schema}.rtt_period;
"#,
        half = n / 2
    ))
    .await
    .unwrap();
    println!(
        "loaded {total} pathways ({n} open) in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let measures: [(&str, &str); 6] = [
        ("json: first page + standard", "/waiting-list"),
        ("json: one specialty", "/waiting-list?specialty=100"),
        ("csv: the whole list", "/waiting-list?format=csv"),
        (
            "standard by specialty and consultant",
            "/waiting-list/standard",
        ),
        ("breach forecast, 4 weeks", "/waiting-list/forecast?weeks=4"),
        ("json: 10,000-row page", "/waiting-list?limit=10000"),
    ];
    println!("\n{requests} requests each, one client, release build, 2 HTTP workers:");
    println!("| measure | rows | bytes | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for (name, path) in measures {
        // One warm-up.
        let _ = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
        let mut times = Vec::with_capacity(requests);
        let mut bytes = 0;
        let mut rows = String::new();
        for _ in 0..requests {
            let t = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let body = r.bytes().await.unwrap();
            times.push(t.elapsed());
            bytes = body.len();
            rows = if path.contains("csv") {
                (body.iter().filter(|b| **b == b'\n').count() - 1).to_string()
            } else {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                v["total"]
                    .as_u64()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| v["trust"]["incomplete"].to_string())
            };
        }
        times.sort();
        println!(
            "| {name} | {rows} | {bytes} | {:.1} | {:.1} | {:.1} |",
            pct(&times, 0.5),
            pct(&times, 0.95),
            pct(&times, 1.0)
        );
    }

    // The store's statement alone, through the service's own pool and tenant transaction.
    let tdb = tessera_tenancy::TenantDb::connect(&db_url_store, 2)
        .await
        .unwrap();
    let tid = tessera_tenancy::TenantId::from(tessera_nhs::OdsCode::parse(&tenant).unwrap());
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let txn = tdb.begin(&tid).await.unwrap();
        let rows = tessera_referrals::store::incomplete(
            &txn,
            Utc::now().date_naive(),
            &Default::default(),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        times.push(t.elapsed());
        assert_eq!(rows.len(), n);
    }
    times.sort();
    println!(
        "\nstore::incomplete alone ({n} rows): p50 {:.1} ms, max {:.1} ms",
        pct(&times, 0.5),
        pct(&times, 1.0)
    );

    // The arithmetic alone, on n rows in memory.
    let today = Utc::now().date_naive();
    let rows: Vec<WaitingRow> = (0..n)
        .map(|i| WaitingRow {
            pathway_id: uuid::Uuid::now_v7(),
            patient_id: format!("p{i}"),
            ppid: format!("{i:020}"),
            issuer: tenant.clone(),
            specialty: "100".into(),
            treatment_function: "100".into(),
            consultant: Some(format!("cons-{}", i % 50)),
            team: None,
            start_date: today - Days::days((i as i64 * 7919) % 300),
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..5 {
        let r = rows.clone();
        let t = Instant::now();
        let e = compute(r, today);
        times.push(t.elapsed());
        assert_eq!(e.len(), n);
    }
    times.sort();
    println!(
        "\ncompute() alone on {n} rows: p50 {:.1} ms, max {:.1} ms",
        pct(&times, 0.5),
        pct(&times, 1.0)
    );
    println!("tenant {tenant} (schema {schema}) left in database tessera_referrals_test");
    shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(300)).await;
}
