//! The regional summary at a region's scale, over HTTP against real PostgreSQL, Redis and the
//! broker — authenticated, decided per trust (the viewer's relationship, each other trust's
//! consent and seals, from the access projections), read from five trusts' projections and
//! audited in all five — beside the floor: the same statements (one transaction; per trust a
//! savepoint scoped to its schema with the projection load, the part's read, the audit record
//! and its outbox row, as the service does) without HTTP, JSON or the decision around them.
//!
//! Set-up (SQL): 5 trusts; one person with a record in each, 40 items per trust (10 referrals
//! with RTT pathways, 10 appointments, 5 admissions, 15 documents, one of them sealed) plus
//! the 5 demographic records: 205 items; BENCH_OTHERS (2,000) other patients per trust with
//! the same shape of record, so the indexes do real work; the viewer's relationship in trust
//! 0; the patient's sharing permit in trusts 1–4.
//!
//! `cargo bench -p tessera-region --bench summary` (PostgreSQL and Redis running; a broker of
//! its own unless `TESSERA_TEST_KAFKA` names one: `kit::bench_kafka`). BENCH_CLIENTS (4),
//! BENCH_READS (400 per client).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sea_orm::ConnectionTrait;
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_region::{Application, Config};
use tessera_testkit as kit;

const PERSON: &str = "00000000-0000-4000-8000-00000000beef";

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

fn report(name: &str, mut d: Vec<Duration>, wall: Duration) -> f64 {
    d.sort();
    let p99 = pct(&d, 0.99);
    println!(
        "{name:<52} n={:>5}  {:>6.0}/s  p50 {:>6.2} ms  p99 {p99:>6.2} ms  max {:>6.2} ms",
        d.len(),
        d.len() as f64 / wall.as_secs_f64(),
        pct(&d, 0.5),
        pct(&d, 1.0)
    );
    p99
}

/// Trust `t`'s patient `n` (0: the person's record).
fn patient(t: usize, n: usize) -> String {
    format!("00000000-0000-4000-{:04x}-{:012x}", t + 1, n)
}

/// One trust's projections: `others` + 1 patients, 40 items each.
fn seed(schema: &str, t: usize, others: usize) -> String {
    format!(
        "CREATE TEMP TABLE IF NOT EXISTS p_{t} AS
           SELECT n, ('00000000-0000-4000-' || lpad(to_hex({tt}), 4, '0') || '-' || lpad(to_hex(n), 12, '0')) AS pid
             FROM generate_series(0, {others}) AS n;
         INSERT INTO {schema}.reg_patient (patient_id, version, nhs_number, nhs_verified, family, given, birth_date, sex,
                                           postcode, address, gp_practice, updated_at)
           SELECT pid, 1, lpad(n::text, 10, '9'), true, 'Family' || n, 'Given', date '1950-01-01' + (n % 20000),
                  'female', 'BB2 3HH', '1 High Street', 'P81001', now() FROM p_{t};
         INSERT INTO {schema}.reg_pathway (id, patient_id, treatment_function, clock, clock_start, updated_at)
           SELECT md5(pid || k)::uuid, pid, '320', 'running', current_date - (k * 9), now()
             FROM p_{t}, generate_series(1, 10) AS k;
         INSERT INTO {schema}.reg_referral (id, patient_id, priority, specialty, treatment_function, team, state,
                                            received_on, pathway_id, updated_at)
           SELECT md5('r' || pid || k)::uuid, pid, 'routine', 'Cardiology', '320', 'CARDIO', 'ACCEPTED',
                  current_date - (k * 9), md5(pid || k)::uuid, now()
             FROM p_{t}, generate_series(1, 10) AS k;
         INSERT INTO {schema}.reg_appointment (id, patient_id, starts_at, ends_at, treatment_function, team, status, updated_at)
           SELECT md5('a' || pid || k)::uuid, pid, now() + (k - 5) * interval '7 days',
                  now() + (k - 5) * interval '7 days' + interval '20 minutes', '320', 'CARDIO',
                  CASE WHEN k < 5 THEN 'attended' ELSE 'booked' END, now()
             FROM p_{t}, generate_series(1, 10) AS k;
         INSERT INTO {schema}.reg_encounter (id, patient_id, admitted_at, ward_team, ward, status, discharged_at, updated_at)
           SELECT md5('e' || pid || k)::uuid, pid, now() - k * interval '30 days', 'WARD7', 'W7', 'finished',
                  now() - k * interval '30 days' + interval '3 days', now()
             FROM p_{t}, generate_series(1, 5) AS k;
         INSERT INTO {schema}.reg_document (id, patient_id, type_code, title, author, status, version, created_at, updated_at)
           SELECT md5('d' || pid || k)::uuid, pid, '371531000', 'Clinic letter ' || k, 'dr-heart', 'final', 2,
                  now() - k * interval '10 days', now()
             FROM p_{t}, generate_series(1, 15) AS k;
         INSERT INTO {schema}.reg_feed (stream, last_event_at)
           SELECT s, now() FROM unnest(ARRAY['patient', 'referral', 'rtt', 'appointment', 'encounter', 'document']) AS s
           ON CONFLICT DO NOTHING;
         INSERT INTO {schema}.known_patient (id) SELECT pid::uuid FROM p_{t} ON CONFLICT DO NOTHING;
         ANALYZE {schema}.reg_patient; ANALYZE {schema}.reg_referral; ANALYZE {schema}.reg_pathway;
         ANALYZE {schema}.reg_appointment; ANALYZE {schema}.reg_encounter; ANALYZE {schema}.reg_document;",
        tt = t + 1
    )
}

#[tokio::main]
async fn main() {
    let others = env("BENCH_OTHERS", 2_000);
    let clients = env("BENCH_CLIENTS", 4);
    let reads = env("BENCH_READS", 400);
    let tenants: Vec<String> = (0..5).map(|_| kit::unique_ods()).collect();
    let (kafka, _broker) = kit::bench_kafka();
    for t in &tenants {
        kit::onboard(&kafka, t).await;
    }
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_region_test").await;
    config.redis_url = kit::redis_url();
    config.kafka = kafka;
    config.auth = idp.auth_config();
    config.tenancy.only = Some(tenants.clone());
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    config.consumer_group_prefix = format!("region-bench-{}", uuid::Uuid::new_v4());
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
    assert!(kit::wait_ready(&client, &management, &tenants).await);
    let db = sea_orm::Database::connect(db_url.clone()).await.unwrap();
    let schema = |t: usize| format!("t_{}", tenants[t].to_lowercase());

    // Set-up.
    let t0 = Instant::now();
    for t in 0..5 {
        db.execute_unprepared(&seed(&schema(t), t, others))
            .await
            .unwrap();
    }
    let person_rows: Vec<String> = (0..5)
        .map(|t| {
            format!(
                "('{}', '{}', '{PERSON}', 'nhs-number', now())",
                tenants[t],
                patient(t, 0)
            )
        })
        .collect();
    db.execute_unprepared(&format!(
        "INSERT INTO region.member (tenant, patient_id, person_id, linked_by, linked_at) VALUES {};
         INSERT INTO {s0}.access_relationship (id, patient_id, team, starts_at, origin)
           VALUES (gen_random_uuid(), '{p0}', 'CARE-TEAM', now() - interval '1 day', 'referral');",
        person_rows.join(", "),
        s0 = schema(0),
        p0 = patient(0, 0),
    ))
    .await
    .unwrap();
    for t in 1..5 {
        let p = patient(t, 0);
        db.execute_unprepared(&format!(
            "INSERT INTO {s}.access_consent (patient_id, sharing) VALUES ('{p}', 'permit');
             INSERT INTO {s}.access_seal (patient_id, item, level, users)
               VALUES ('{p}', 'document:' || md5('d' || '{p}' || 1)::uuid, 'sealed', ARRAY['someone-else']);",
            s = schema(t)
        ))
        .await
        .unwrap();
    }
    // Each record's kept part, as the consumers keep it.
    let tdb = tessera_tenancy::TenantDb::connect(&db_url, 20)
        .await
        .unwrap();
    let ids: Vec<tessera_tenancy::TenantId> = tenants
        .iter()
        .map(|t| tessera_tenancy::TenantId::parse(t).unwrap())
        .collect();
    for (t, id) in ids.iter().enumerate() {
        let all: Vec<String> = (0..=others).map(|n| patient(t, n)).collect();
        let txn = tdb.begin(id).await.unwrap();
        tessera_region::store::summary::refresh(&txn, id.as_str(), &all)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    println!(
        "setup: 5 trusts x {} patients x 40 items in {:.1} s",
        others + 1,
        t0.elapsed().as_secs_f64()
    );

    let mut req = kit::Token::new("dr-bench", &tenants[0], "R8000", &["B0820"]);
    req.workgroups = vec!["CARE-TEAM".into()];
    let token = idp.token_for(&req);
    let path = format!("{base}/patients/{}/summary", patient(0, 0));
    // One to check the shape: 5 trusts shown, 200 items + 5 demographics, 4 sealed withheld.
    let v: serde_json::Value = client
        .get(&path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items: usize = [
        "demographics",
        "referrals",
        "appointments",
        "admissions",
        "documents",
    ]
    .iter()
    .map(|k| v[k].as_array().map_or(0, Vec::len))
    .sum();
    assert_eq!(
        items,
        5 + 5 * 40 - 4,
        "{}",
        &v.to_string()[..400.min(v.to_string().len())]
    );
    assert_eq!(v["withheld"].as_array().map(Vec::len), Some(4));
    println!("one summary: {items} items shown from 5 trusts, 4 withheld (sealed)");

    // HTTP, `clients` at once.
    let wall = Instant::now();
    let runs = (0..clients).map(|_| {
        let (client, path, token) = (client.clone(), path.clone(), token.clone());
        tokio::spawn(async move {
            let mut d = Vec::with_capacity(reads);
            for _ in 0..reads {
                let s = Instant::now();
                let r = client.get(&path).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
                d.push(s.elapsed());
            }
            d
        })
    });
    let http: Vec<Duration> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let h99 = report(
        &format!("HTTP summary, 5 trusts, 205 items, {clients} clients"),
        http,
        wall.elapsed(),
    );

    // The floor: the same statements in one transaction, a savepoint per trust scoped to
    // its schema, as the service does.
    let who = tessera_access::Identity {
        user_id: "dr-bench".into(),
        session_id: String::new(),
        expires_at: i64::MAX,
        role: tessera_access::SelectedRole {
            person_role_id: String::new(),
            organisation: ids[0].ods().clone(),
            job_role: "R8000".into(),
            activities: Default::default(),
            workgroups: vec!["CARE-TEAM".into()],
        },
    };
    let wall = Instant::now();
    let runs = (0..clients).map(|_| {
        let (tdb, ids, who) = (tdb.clone(), ids.clone(), who.clone());
        tokio::spawn(async move {
            let mut d = Vec::with_capacity(reads);
            for _ in 0..reads {
                let s = Instant::now();
                let outer = tdb.begin(&ids[0]).await.unwrap();
                outer
                    .execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
                    .await
                    .unwrap();
                let now = chrono::Utc::now();
                for (t, id) in ids.iter().enumerate() {
                    use sea_orm::TransactionTrait;
                    let p = patient(t, 0);
                    let txn = outer.begin().await.unwrap();
                    txn.execute_unprepared(&format!(
                        "SET LOCAL search_path TO \"{}\"",
                        id.schema()
                    ))
                    .await
                    .unwrap();
                    tessera_access::projection::load_in(
                        &txn,
                        id,
                        &who,
                        std::slice::from_ref(&p),
                        now,
                    )
                    .await
                    .unwrap();
                    let part = tessera_region::store::summary::part(
                        &txn,
                        id.as_str(),
                        std::slice::from_ref(&p),
                        now.date_naive(),
                    )
                    .await
                    .unwrap();
                    assert_eq!(part.documents.len(), 15);
                    let record = tessera_audit::AuditRecord {
                        service: "region",
                        tenant: Some(id.clone()),
                        user_id: who.user_id.clone(),
                        role_code: "R8000".into(),
                        organisation: who.role.organisation.to_string(),
                        patient_id: Some(p),
                        action: "region.summary.shared",
                        outcome: tessera_audit::Outcome::Permit,
                        reason: "ok".into(),
                        status: 200,
                        trace: None,
                        result_count: 41,
                        projection_age_ms: None,
                    };
                    tessera_audit::write(&txn, &record).await.unwrap();
                    txn.commit().await.unwrap();
                }
                outer.commit().await.unwrap();
                d.push(s.elapsed());
            }
            d
        })
    });
    let floor: Vec<Duration> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let f99 = report(
        "floor: the same statements in the database",
        floor,
        wall.elapsed(),
    );
    println!("p99 ratio to floor: {:.2}", h99 / f99);
    shutdown.trigger();
}
