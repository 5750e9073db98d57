//! No bed holds two patients across a crash either: the race of `race.rs` against the
//! service run as its own process, killed with SIGKILL in the middle and started again,
//! while every client resends as a real one would — an admission under the same
//! `Idempotency-Key`, a transfer as it was (to the bed the patient is in, it changes
//! nothing) — until it is answered. Then: no bed double-occupied, no episodes overlapping,
//! and every admission or transfer answered exists, once.
use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn pas_killed_mid_race_and_restarted_keeps_every_admission_it_answered_and_no_bed_twice() {
    let app = TestApp::spawn(1).await;
    let (beds, held, new) = race_ground(&app, "CRASH").await;

    let mut pas = Process::start(&app, |_| {}).await;
    let base = pas.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let staff = app.staff(0);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..100usize {
        let (client, base, staff) = (client.clone(), base.clone(), staff.clone());
        let bed = beds[i % 20].clone();
        let (path, body) = if i < 60 {
            ("/admissions".to_string(), admission(&new[i], &bed))
        } else {
            (
                format!("/spells/{}/transfer", held[i - 60]),
                json!({ "bed_id": bed }),
            )
        };
        let wait = Duration::from_millis((uuid::Uuid::new_v4().as_u128() % 1500) as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let key = uuid::Uuid::new_v4().to_string();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut attempts = 0;
            loop {
                attempts += 1;
                let r = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&staff)
                    .header("Idempotency-Key", &key)
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() != 503 => {
                        let status = r.status().as_u16();
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        return (i, bed, status, v, attempts);
                    }
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    _ => return (i, bed, 0, serde_json::Value::Null, attempts),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700).saturating_sub(started.elapsed())).await;
    pas.kill_and_restart();
    let (mut won, mut refused, mut retried) = (Vec::new(), 0, 0);
    for t in tasks {
        let (i, bed, status, v, attempts) = t.await.unwrap();
        retried += usize::from(attempts > 1);
        match (status, v["code"].as_str()) {
            (200 | 201, _) => won.push((bed, v["id"].as_str().unwrap().to_string())),
            (409, Some("bed.occupied")) => refused += 1,
            other => panic!("client {i}: 201, 200 or 409 bed.occupied, not {other:?}"),
        }
    }
    pas.stop();
    assert!(
        retried > 0,
        "the kill came during the race: some clients had to resend"
    );
    assert_eq!(won.len(), 20, "each bed went to exactly one client");
    let schema = app.schema(0);
    for (bed, spell) in &won {
        let n = app
            .scalar(&format!(
                "SELECT count(*) AS n FROM {schema}.bed_stay WHERE spell_id = '{spell}' AND bed_id = '{bed}'
                    AND to_at IS NULL AND cancelled_at IS NULL"
            ))
            .await;
        assert_eq!(n, 1, "every answered admission or transfer is in its bed");
    }
    let open = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.bed_stay s JOIN {schema}.bed b ON b.id = s.bed_id
               JOIN {schema}.ward w ON w.id = b.ward_id
              WHERE w.code = 'CRASH' AND s.to_at IS NULL AND s.cancelled_at IS NULL"
        ))
        .await;
    assert_eq!(
        open as usize,
        won.len(),
        "and nothing else is in a bed: {refused} refused, {retried} resent"
    );
    let spells = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.spell"))
        .await;
    let admitted = won.iter().filter(|(_, s)| !held.contains(s)).count();
    assert_eq!(
        spells as usize,
        40 + admitted,
        "a resent admission took effect once"
    );
    assert_eq!(race_invariants(&app).await, (0, 0));
    eprintln!(
        "pas crash race: {} in beds, {refused} refused, {retried} resent after the kill",
        won.len()
    );
    app.stop().await;
}
