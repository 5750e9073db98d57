//! Booking and finding slots at the scale of a trust's outpatients, over HTTP against real
//! PostgreSQL, Redis and the broker — each request authenticated, rate-limited, audited, each
//! booking with its outbox event — beside the floor: the same database work without the
//! service around it.
//!
//! 1. 100 clinics × 26 weeks of one weekly session of 40 ten-minute slots (104,000 slots),
//!    made through the API (clinic, template, generation).
//! 2. **First free slots**: `GET /slots?specialty=…&from=…&limit=20` (ten clinics per
//!    specialty) and across every clinic, sequentially; p50/p99. Floor: `store::availability`
//!    in a tenant transaction on the same connection pool kind.
//! 3. **Bookings** from BENCH_CLIENTS (32) concurrent clients for BENCH_SECONDS (20), each a
//!    new patient into a free slot, with an `Idempotency-Key`; bookings/s, p50/p99, errors.
//!    Floor: the use case's transaction (patient known, `store::book`, its `AppointmentBooked`
//!    in the outbox, the audit record) from as many concurrent tasks.
//!
//! `cargo bench -p tessera-scheduling --bench booking` (PostgreSQL and Redis running; a
//! broker of its own unless `TESSERA_TEST_KAFKA` names one: `kit::bench_kafka`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration as Days, Utc};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_scheduling::store::{self, events, Availability, NewBooking};
use tessera_scheduling::{Application, Config};
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
        "{name:<44} n={:>6}  {:>8.1}/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        d.len(),
        d.len() as f64 / seconds,
        pct(&d, 0.5),
        pct(&d, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let clients = env("BENCH_CLIENTS", 32);
    let seconds = env("BENCH_SECONDS", 20) as u64;
    let searches = env("BENCH_SEARCHES", 500);
    let tenant = kit::unique_ods();
    let (kafka, _broker) = kit::bench_kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_scheduling_test").await;
    config.database_max_connections = 40;
    config.redis_url = kit::redis_url();
    config.kafka = kafka;
    config.auth = idp.auth_config();
    config.tenancy.only = Some(vec![tenant.clone()]);
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    config.consumer_group_prefix = format!("scheduling-bench-{}", uuid::Uuid::new_v4());
    let db_url = config.database_url.clone();
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let management = format!("http://127.0.0.1:{}", app.management_port());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    assert!(kit::wait_ready(&client, &management, std::slice::from_ref(&tenant)).await);
    let token = idp.token(&tenant, &["B1120"]);
    let schema = format!("t_{}", tenant.to_lowercase());
    let db = Database::connect(db_url.clone()).await.unwrap();

    // 1. The clinics, through the API.
    let t0 = Instant::now();
    let from = Utc::now().date_naive() + Days::days(1);
    let post = |path: String, body: serde_json::Value| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            let r = client
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    for i in 0..100 {
        let tf = format!("{}", 100 + (i % 10) * 10);
        let c = post(
            "/clinics".into(),
            json!({ "code": format!("BENCH-{i:03}"), "name": "Bench clinic", "specialty": tf,
                    "treatment_function": tf, "site": format!("Site {}", i % 4), "services": ["new", "follow-up"],
                    "team": format!("TEAM{}", i % 10) }),
        )
        .await;
        let weekday = ["mon", "tue", "wed", "thu", "fri"][i % 5];
        let t = post(
            format!("/clinics/{}/templates", c["id"].as_str().unwrap()),
            json!({ "pattern": { "every": "week", "weekday": weekday }, "starts": "08:00", "ends": "14:40",
                    "slot_minutes": 10, "slot_type": if i % 3 == 0 { "follow-up" } else { "new" },
                    "valid_from": from.to_string() }),
        )
        .await;
        post(
            format!("/templates/{}/sessions", t["id"].as_str().unwrap()),
            json!({ "from": from.to_string(), "weeks": 26 }),
        )
        .await;
    }
    let slots: Vec<String> = db
        .query_all(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT id::text AS id FROM {schema}.slot ORDER BY random()"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "id").unwrap())
        .collect();
    db.execute_unprepared(&format!(
        "ANALYZE {schema}.slot; ANALYZE {schema}.session; ANALYZE {schema}.clinic;"
    ))
    .await
    .unwrap();
    println!(
        "setup: 100 clinics, {} slots through the API in {:.1} s",
        slots.len(),
        t0.elapsed().as_secs_f64()
    );

    // 2. First free slots.
    let mut by_specialty = Vec::new();
    let mut everywhere = Vec::new();
    let t0 = Instant::now();
    for i in 0..searches {
        let d = from + Days::days((i % 170) as i64);
        let url = if i % 2 == 0 {
            format!(
                "{base}/slots?specialty={}&from={d}&limit=20",
                100 + (i % 10) * 10
            )
        } else {
            format!("{base}/slots?from={d}&limit=20")
        };
        let s = Instant::now();
        let r = client.get(url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(!v["slots"].as_array().unwrap().is_empty());
        if i % 2 == 0 {
            by_specialty.push(s.elapsed())
        } else {
            everywhere.push(s.elapsed())
        }
    }
    let took = t0.elapsed().as_secs_f64();
    summary(
        "HTTP first free slots, one specialty",
        by_specialty,
        took / 2.0,
    );
    summary(
        "HTTP first free slots, every clinic",
        everywhere,
        took / 2.0,
    );
    let tdb = tessera_tenancy::TenantDb::connect(&db_url, 40)
        .await
        .unwrap();
    let tid = tessera_tenancy::TenantId::parse(&tenant).unwrap();
    let (mut floor_specialty, mut floor_all) = (Vec::new(), Vec::new());
    let t0 = Instant::now();
    for i in 0..searches {
        let d = from + Days::days((i % 170) as i64);
        let q = Availability {
            from: d,
            to: d + Days::weeks(26),
            clinic: None,
            specialty: (i % 2 == 0).then(|| format!("{}", 100 + (i % 10) * 10)),
            slot_type: None,
            site: None,
            clinician: None,
            limit: 20,
            statuses: None,
        };
        let s = Instant::now();
        let txn = tdb.begin(&tid).await.unwrap();
        let found = store::availability(&txn, &q).await.unwrap();
        txn.commit().await.unwrap();
        assert!(!found.is_empty());
        if i % 2 == 0 {
            floor_specialty.push(s.elapsed())
        } else {
            floor_all.push(s.elapsed())
        }
    }
    let took = t0.elapsed().as_secs_f64();
    summary(
        "floor: its SQL alone, one specialty",
        floor_specialty,
        took / 2.0,
    );
    summary("floor: its SQL alone, every clinic", floor_all, took / 2.0);

    // 3. Bookings: every client a new patient into the next free slot.
    let patients = clients * seconds as usize * 1500 + 1000;
    db.execute_unprepared(&format!(
        "INSERT INTO {schema}.known_patient (id) SELECT gen_random_uuid() FROM generate_series(1, {patients})"
    ))
    .await
    .unwrap();
    let ids: Vec<String> = db
        .query_all(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT id::text AS id FROM {schema}.known_patient"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "id").unwrap())
        .collect();
    let work = Arc::new((slots, ids, AtomicUsize::new(0)));
    let run = |label: &'static str, http: bool| {
        let work = work.clone();
        let (client, base, token, tdb, tid) = (
            client.clone(),
            base.clone(),
            token.clone(),
            tdb.clone(),
            tid.clone(),
        );
        async move {
            let times = Arc::new(Mutex::new(Vec::new()));
            let errors = Arc::new(AtomicUsize::new(0));
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let started = Instant::now();
            let tasks: Vec<_> = (0..clients)
                .map(|_| {
                    let (work, times, errors) = (work.clone(), times.clone(), errors.clone());
                    let (client, base, token, tdb, tid) = (
                        client.clone(),
                        base.clone(),
                        token.clone(),
                        tdb.clone(),
                        tid.clone(),
                    );
                    tokio::spawn(async move {
                        while Instant::now() < deadline {
                            let n = work.2.fetch_add(1, Ordering::Relaxed);
                            let (Some(slot), Some(patient)) = (work.0.get(n), work.1.get(n)) else {
                                break;
                            };
                            let s = Instant::now();
                            let ok = if http {
                                let r = client
                                    .post(format!("{base}/appointments"))
                                    .bearer_auth(&token)
                                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                                    .json(&json!({ "slot_id": slot, "patient_id": patient }))
                                    .send()
                                    .await;
                                matches!(r, Ok(r) if r.status() == 201)
                            } else {
                                floor_booking(&tdb, &tid, slot, patient).await
                            };
                            if ok {
                                times.lock().unwrap().push(s.elapsed());
                            } else {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let took = started.elapsed().as_secs_f64();
            let d = std::mem::take(&mut *times.lock().unwrap());
            summary(label, d, took);
            println!("{:<44} errors {}", "", errors.load(Ordering::Relaxed));
        }
    };
    run("HTTP bookings (32 clients)", true).await;
    run("floor: the booking's transaction alone", false).await;
    shutdown.trigger();
}

/// The use case's database work, without HTTP, authentication, the rate limit or Redis.
async fn floor_booking(
    tdb: &tessera_tenancy::TenantDb,
    tid: &tessera_tenancy::TenantId,
    slot: &str,
    patient: &str,
) -> bool {
    let Ok(txn) = tdb.begin(tid).await else {
        return false;
    };
    let patient = tessera_patients::PatientId::parse(patient).unwrap();
    if tessera_patients::require_known(&txn, patient.as_uuid(), Utc::now())
        .await
        .is_err()
    {
        return false;
    }
    let b = NewBooking {
        slot: tessera_scheduling::domain::SlotId::from(uuid::Uuid::parse_str(slot).unwrap()),
        patient,
        referral: None,
        pathway: None,
        ppid: None,
        communicated: true,
        hold: None,
        overbook: false,
        by: "bench".into(),
        key: Some(uuid::Uuid::new_v4().to_string()),
    };
    let Ok(store::Booking::New(a)) = store::book(&txn, &b, None).await else {
        return false;
    };
    let p = events::Publish {
        tenant: tid.clone(),
        trace: None,
    };
    if events::booked(
        &txn,
        &p,
        tessera_scheduling::domain::AppointmentId::from(a.id),
    )
    .await
    .is_err()
    {
        return false;
    }
    let record = tessera_audit::AuditRecord {
        service: "scheduling",
        tenant: Some(tid.clone()),
        user_id: "bench".into(),
        role_code: "R8000".into(),
        organisation: tid.as_str().into(),
        patient_id: Some(a.patient_id.clone()),
        action: "appointment.book",
        outcome: tessera_audit::Outcome::Permit,
        reason: String::new(),
        status: 201,
        trace: None,
        result_count: 1,
        projection_age_ms: None,
    };
    tessera_audit::write(&txn, &record).await.is_ok() && txn.commit().await.is_ok()
}
