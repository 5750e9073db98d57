//! No double booking survives a crash either: the race of `race.rs` against the service run
//! as its own process, killed with SIGKILL in the middle of the race and started again, while
//! every client behaves as a real one — it resends its booking, with the same
//! `Idempotency-Key`, until it gets an answer. Then: no slot over capacity, no patient in two
//! places, and every booking answered 201 exists, once.
use crate::helpers::*;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tessera_testkit as kit;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn start(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tessera-scheduling"))
        .env("TESSERA_CONFIG", config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_service_killed_mid_race_and_restarted_keeps_every_booking_it_answered_and_no_more() {
    // The clinics and patients are set up through an in-process instance; the race runs
    // against a separate process of the same build, which is the one killed.
    let app = TestApp::spawn(1).await;
    let (clinics, patients) = race_ground(&app, ["CRASH-A", "CRASH-B"]).await;

    let mut config = tessera_scheduling::Config::default();
    config.http.port = free_port();
    config.http.management_port = free_port();
    config.database_url = kit::database("tessera_scheduling_test").await;
    config.database_max_connections = 20;
    config.redis_url = kit::redis_url();
    config.kafka = app.kafka.clone();
    config.auth = app.idp.auth_config();
    config.tenancy.only = Some(app.tenants.clone());
    config.consumer_group_prefix = format!("scheduling-crash-{}", uuid::Uuid::new_v4());
    config.rate_limit.per_tenant_per_second = 100_000;
    config.telemetry.log_level = "error".into();
    let dir = std::env::temp_dir().join(format!("tessera-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scheduling.toml");
    std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
    let base = format!("http://127.0.0.1:{}", config.http.port);
    let management = format!("http://127.0.0.1:{}", config.http.management_port);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut child = start(&file);
    assert!(
        kit::wait_ready(&client, &management, &app.tenants).await,
        "the process never became ready"
    );

    // Client i: patient i % 100, clinic A for the first hundred and B for the rest, slot
    // i % 25; each starts at a random moment in the first two seconds.
    let token = app.clerk(0);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let slot = clinics[i / 100][i % 25].clone();
        let patient = patients[i % 100].clone();
        let wait = Duration::from_millis((uuid::Uuid::new_v4().as_u128() % 2000) as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let key = uuid::Uuid::new_v4().to_string();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut attempts = 0;
            loop {
                attempts += 1;
                let r = client
                    .post(format!("{base}/appointments"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", &key)
                    .json(&json!({ "slot_id": slot, "patient_id": patient }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() != 503 => {
                        let status = r.status().as_u16();
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        return (status, body, attempts);
                    }
                    // Refused connection (the service is down) or 503: retry, same key.
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    _ => return (0, serde_json::Value::Null, attempts),
                }
            }
        }));
    }
    let kill_at = Duration::from_millis(900);
    tokio::time::sleep(kill_at.saturating_sub(started.elapsed())).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut child = start(&file);
    let (mut booked, mut full, mut clash, mut retried) = (Vec::new(), 0, 0, 0);
    for t in tasks {
        let (status, body, attempts) = t.await.unwrap();
        retried += usize::from(attempts > 1);
        match (status, body["code"].as_str()) {
            (201, _) => booked.push(body["id"].as_str().unwrap().to_string()),
            (409, Some("slot.full")) => full += 1,
            (409, Some("appointment.patient-clash")) => clash += 1,
            other => panic!("every client is answered 201 or a clear 409: {other:?}"),
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        retried > 0,
        "the kill came during the race: some clients had to resend"
    );
    let schema = app.schema(0);
    let list: Vec<String> = booked.iter().map(|b| format!("'{b}'")).collect();
    let found = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.appointment WHERE status = 'booked' AND id IN ({})",
            list.join(",")
        ))
        .await;
    let mut distinct = booked.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(found as usize, distinct.len(), "every 201 exists");
    let rows = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.appointment WHERE status = 'booked'"
        ))
        .await;
    assert_eq!(
        rows as usize,
        distinct.len(),
        "and nothing else: a resent booking took effect once"
    );
    assert_eq!(
        rows, 50,
        "booked {rows}, full {full}, clash {clash}, retried {retried}"
    );
    let over = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.slot s
              WHERE s.booked > s.capacity
                 OR s.booked <> (SELECT count(*) FROM {schema}.appointment a WHERE a.slot_id = s.id AND a.status = 'booked')"
        ))
        .await;
    assert_eq!(
        over, 0,
        "no slot over capacity, and every count is its appointments'"
    );
    let overlapping = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.appointment a JOIN {schema}.appointment b
                ON a.patient_id = b.patient_id AND a.id < b.id
               AND a.status = 'booked' AND b.status = 'booked'
               AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        ))
        .await;
    assert_eq!(overlapping, 0, "no patient in two places at once");
    eprintln!("crash race: {} booked, {full} full, {clash} clash, {retried} clients resent after the kill", distinct.len());
    app.stop().await;
}
