//! No double booking, whatever the concurrency: 200 clients race for the places in 50 slots
//! while the same patients try to book overlapping times in another clinic.
use crate::helpers::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn two_hundred_clients_racing_for_fifty_slots_overfill_none_and_double_book_no_patient() {
    let app = Arc::new(TestApp::spawn(1).await);
    let (clinics, patients) = race_ground(&app, ["RACE-A", "RACE-B"]).await;
    // Client i: patient i % 100; clinic A for the first hundred, B for the rest; slot i % 25.
    // So each slot has four patients racing for its one place, and each patient races for
    // slot k in A and slot k in B — the same time — at once.
    let token = app.clerk(0);
    let go = Arc::new(tokio::sync::Barrier::new(200));
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let (app, go, token) = (app.clone(), go.clone(), token.clone());
        let slot = clinics[i / 100][i % 25].clone();
        let patient = patients[i % 100].clone();
        tasks.push(tokio::spawn(async move {
            go.wait().await;
            let (s, body) = app
                .post(
                    "/appointments",
                    &token,
                    json!({ "slot_id": slot, "patient_id": patient }),
                )
                .await;
            (s, body["code"].as_str().map(str::to_string))
        }));
    }
    let (mut booked, mut full, mut clash) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => booked += 1,
            (409, Some(c)) if c == "slot.full" => full += 1,
            (409, Some(c)) if c == "appointment.patient-clash" => clash += 1,
            other => panic!("every client is answered 201 or a clear 409: {other:?}"),
        }
    }
    let schema = app.schema(0);
    let rows = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.appointment WHERE status = 'booked'"
        ))
        .await;
    assert_eq!(rows, booked, "every 201 exists, and nothing else");
    // Each slot has four contenders and only one of them can hold the same time in the
    // other clinic, so every slot ends with exactly one booking: no refusal was wrong.
    assert_eq!(booked, 50, "booked {booked}, full {full}, clash {clash}");
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
    assert!(clash > 0, "the race did test overlapping bookings: {clash}");
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the app is still shared"),
    }
}
