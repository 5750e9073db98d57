//! PAS at a site's scale, over HTTP against real PostgreSQL, Redis and the broker — each
//! request authenticated, rate-limited and audited — beside the floor: the same database
//! work without the service around it.
//!
//! 1. A 1,000-bed ward (the worst case for one board: a whole site on one ward), 850 patients
//!    admitted through the API from 8 concurrent clients (admissions/s, p50/p99).
//! 2. **The bed board**: `GET /wards/{id}/board`, sequentially (BENCH_BOARDS, 300); p50/p99.
//!    Floor: `store::board` in a tenant transaction.
//! 3. **The monthly extract** of 100,000 activity records (BENCH_RECORDS), inserted by SQL
//!    for last month: `GET /activity/extract?month=…&format=csv` (five runs; time to the
//!    last byte). Floor: `store::activity::ending_between` in a tenant transaction.
//!
//! `cargo bench -p tessera-pas --bench pas` (PostgreSQL and Redis running; a broker of its
//! own unless `TESSERA_TEST_KAFKA` names one: `kit::bench_kafka`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Datelike, Months, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_pas::domain::WardId;
use tessera_pas::store;
use tessera_pas::{Application, Config};
use tessera_testkit as kit;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut d: Vec<Duration>, seconds: f64) {
    d.sort();
    println!(
        "{name:<46} n={:>6}  {:>8.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        d.len(),
        d.len() as f64 / seconds,
        pct(&d, 0.5),
        pct(&d, 0.99),
        pct(&d, 1.0)
    );
}

#[tokio::main]
async fn main() {
    let boards = env("BENCH_BOARDS", 300);
    let records = env("BENCH_RECORDS", 100_000);
    let tenant = kit::unique_ods();
    let (kafka, _broker) = kit::bench_kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_pas_test").await;
    config.database_max_connections = 20;
    config.redis_url = kit::redis_url();
    config.kafka = kafka;
    config.auth = idp.auth_config();
    config.tenancy.only = Some(vec![tenant.clone()]);
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    config.consumer_group_prefix = format!("pas-bench-{}", uuid::Uuid::new_v4());
    let db_url = config.database_url.clone();
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let management = format!("http://127.0.0.1:{}", app.management_port());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()
        .unwrap();
    assert!(kit::wait_ready(&client, &management, std::slice::from_ref(&tenant)).await);
    let token = idp.token(&tenant, &["B0264", "B0370"]);
    let schema = format!("t_{}", tenant.to_lowercase());
    let db = sea_orm::Database::connect(db_url.clone()).await.unwrap();

    // 1. The ward and its patients.
    let beds: Vec<_> = (1..=1000)
        .map(|n| json!({ "code": format!("B{n:04}") }))
        .collect();
    let w: serde_json::Value = client
        .post(format!("{base}/wards"))
        .bearer_auth(&token)
        .json(&json!({ "code": "SITE", "name": "Whole site", "site": "Main", "team": "SITE", "beds": beds }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ward = w["id"].as_str().unwrap().to_string();
    let board: serde_json::Value = client
        .get(format!("{base}/wards/{ward}/board"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bed_ids: Vec<String> = board["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bed_ids.len(), 1000);
    let patients: Vec<String> = (0..850).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let values: Vec<String> = patients.iter().map(|p| format!("('{p}')")).collect();
    db.execute_unprepared(&format!(
        "INSERT INTO {schema}.known_patient (id) VALUES {}",
        values.join(",")
    ))
    .await
    .unwrap();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let mine: Vec<(String, String)> = patients
            .iter()
            .zip(&bed_ids)
            .enumerate()
            .filter(|(i, _)| i % 8 == c)
            .map(|(_, (p, b))| (p.clone(), b.clone()))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            for (p, b) in mine {
                let s = Instant::now();
                let r = client
                    .post(format!("{base}/admissions"))
                    .bearer_auth(&token)
                    .json(&json!({ "patient_id": p, "bed_id": b, "admission_method": "21", "admission_source": "19",
                                   "consultant": "C1234567", "treatment_function": "300" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                took.push(s.elapsed());
            }
            took
        }));
    }
    let mut admitted = Vec::new();
    for t in tasks {
        admitted.extend(t.await.unwrap());
    }
    summary(
        "HTTP admissions, 8 clients",
        admitted,
        t0.elapsed().as_secs_f64(),
    );
    db.execute_unprepared(&format!(
        "ANALYZE {schema}.bed; ANALYZE {schema}.bed_stay; ANALYZE {schema}.spell;"
    ))
    .await
    .unwrap();

    // 2. The board.
    let mut took = Vec::new();
    let t0 = Instant::now();
    for _ in 0..boards {
        let s = Instant::now();
        let r = client
            .get(format!("{base}/wards/{ward}/board"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["beds"].as_array().unwrap().len(), 1000);
        took.push(s.elapsed());
    }
    summary(
        "HTTP bed board, 1,000 beds (850 occupied)",
        took,
        t0.elapsed().as_secs_f64(),
    );
    let tdb = tessera_tenancy::TenantDb::connect(&db_url, 10)
        .await
        .unwrap();
    let tid = tessera_tenancy::TenantId::parse(&tenant).unwrap();
    let ward_id = WardId::from(uuid::Uuid::parse_str(&ward).unwrap());
    let mut took = Vec::new();
    let t0 = Instant::now();
    for _ in 0..boards {
        let s = Instant::now();
        let txn = tdb.begin(&tid).await.unwrap();
        let b = store::board(&txn, ward_id).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(b.len(), 1000);
        took.push(s.elapsed());
    }
    summary(
        "floor: store::board in a transaction",
        took,
        t0.elapsed().as_secs_f64(),
    );

    // 3. The extract: last month's records.
    let first = Utc::now()
        .date_naive()
        .with_day(1)
        .unwrap()
        .checked_sub_months(Months::new(1))
        .unwrap();
    let t0 = Instant::now();
    db.execute_unprepared(&format!(
        "INSERT INTO {schema}.activity (id, kind, source_id, patient_id, spell_number, treatment_function, consultant,
                                        start_date, end_date, admission_method, admission_source, discharge_method,
                                        discharge_destination, ppid, ppid_issuer, commissioner, diagnoses, procedures,
                                        recorded_at)
         SELECT gen_random_uuid(), 'apc-episode', gen_random_uuid(), gen_random_uuid()::text, n, '300', 'C1234567',
                DATE '{first}' + (n % 25), DATE '{first}' + (n % 25) + 2, '21', '19', '1', '19',
                'RXR' || lpad(n::text, 16, '0'), 'RXR', '15F', ARRAY['J18.9', 'I10'], ARRAY['X40.1'], now()
           FROM generate_series(1, {records}) AS n"
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!("ANALYZE {schema}.activity;"))
        .await
        .unwrap();
    println!(
        "setup: {records} activity records in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let month = first.format("%Y-%m");
    let mut took = Vec::new();
    let mut bytes = 0;
    let t0 = Instant::now();
    for _ in 0..5 {
        let s = Instant::now();
        let r = client
            .get(format!("{base}/activity/extract?month={month}&format=csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        bytes = body.len();
        took.push(s.elapsed());
    }
    summary(
        "HTTP monthly extract, CSV",
        took,
        t0.elapsed().as_secs_f64(),
    );
    println!(
        "  ({} records, {:.1} MB of CSV)",
        records,
        bytes as f64 / 1e6
    );
    let mut took = Vec::new();
    let t0 = Instant::now();
    for _ in 0..5 {
        let s = Instant::now();
        let txn = tdb.begin(&tid).await.unwrap();
        let rows = store::activity::ending_between(
            &txn,
            first,
            first.checked_add_months(Months::new(1)).unwrap(),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        assert!(rows.len() >= records);
        took.push(s.elapsed());
    }
    summary(
        "floor: ending_between in a transaction",
        took,
        t0.elapsed().as_secs_f64(),
    );
    shutdown.trigger();
}
