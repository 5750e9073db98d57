//! No bed holds two patients, whatever the concurrency: 100 clients race for 20 beds — 60
//! admitting new patients, 40 moving patients already in — and every one is answered 201/200
//! or a clear 409.
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_hundred_admissions_and_transfers_racing_for_twenty_beds_fill_each_bed_once() {
    let app = TestApp::spawn(1).await;
    let (beds, held, new) = race_ground(&app, "RACE").await;
    let staff = app.staff(0);
    let mut tasks = Vec::new();
    for i in 0..100usize {
        let (client, base, staff) = (app.client.clone(), app.base.clone(), staff.clone());
        let bed = beds[i % 20].clone();
        let (path, body) = if i < 60 {
            ("/admissions".to_string(), admission(&new[i], &bed))
        } else {
            (
                format!("/spells/{}/transfer", held[i - 60]),
                json!({ "bed_id": bed }),
            )
        };
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}{path}"))
                .bearer_auth(&staff)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (i, bed, status, v)
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        let (i, bed, status, v) = t.await.unwrap();
        match (status, v["code"].as_str()) {
            (200 | 201, _) => won.push((i, bed, v["id"].as_str().unwrap().to_string())),
            (409, Some("bed.occupied")) => {}
            other => panic!("client {i}: 201, 200 or 409 bed.occupied, not {other:?}"),
        }
    }
    assert_eq!(won.len(), 20, "each bed went to exactly one client");
    let schema = app.schema(0);
    for (_, bed, spell) in &won {
        let n = app
            .scalar(&format!(
                "SELECT count(*) AS n FROM {schema}.bed_stay WHERE spell_id = '{spell}' AND bed_id = '{bed}'
                    AND to_at IS NULL AND cancelled_at IS NULL"
            ))
            .await;
        assert_eq!(n, 1, "every answered admission or transfer is in its bed");
    }
    assert_eq!(race_invariants(&app).await, (0, 0));
    app.stop().await;
}
