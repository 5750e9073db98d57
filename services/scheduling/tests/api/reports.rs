//! Utilisation per session and per clinic (JSON and CSV) and the free capacity ahead, from
//! appointments booked, attended, missed and cancelled through the API.
use crate::helpers::*;
use chrono::{Datelike, Duration, Utc};
use serde_json::{json, Value};

async fn booked(app: &TestApp, slot: &str) -> String {
    let p = app.patient(0).await;
    let (s, a) = app
        .post(
            "/appointments",
            &app.clerk(0),
            json!({ "slot_id": slot, "patient_id": p }),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn utilisation_counts_every_outcome_and_capacity_shows_the_free_places_ahead() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "UTIL").await;
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(yesterday) }, "starts": "09:00",
                    "ends": "09:50", "slot_minutes": 10, "slot_type": "new", "valid_from": yesterday.to_string() }),
        )
        .await;
    app.generate(0, &template, yesterday, 2).await;
    let slots = app.slots(0, &clinic).await;
    // Yesterday: five places. Attended, did not attend, cancelled by each side, one unused.
    let a = booked(&app, &slots[0].0).await;
    let b = booked(&app, &slots[1].0).await;
    let c = booked(&app, &slots[2].0).await;
    let d = booked(&app, &slots[3].0).await;
    for (id, outcome) in [(&a, "attended"), (&b, "did-not-attend")] {
        let (s, v) = app
            .post(
                &format!("/appointments/{id}/outcome"),
                &clerk,
                json!({ "outcome": outcome }),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    for (id, by) in [(&c, "patient"), (&d, "provider")] {
        let (s, v) = app
            .post(
                &format!("/appointments/{id}/cancel"),
                &clerk,
                json!({ "by": by, "reason": "test" }),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    // Next week's session: five places, one booked.
    booked(&app, &slots[5].0).await;

    let (s, v) = app
        .get(
            &format!("/reports/utilisation?by=session&from={yesterday}&to={yesterday}"),
            &clerk,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    let r = &rows[0];
    let n = |k: &str| r[k].as_i64().unwrap();
    assert_eq!(
        (
            n("capacity"),
            n("used"),
            n("attended"),
            n("did_not_attend"),
            n("cancelled_by_patient"),
            n("cancelled_by_provider")
        ),
        (5, 2, 1, 1, 1, 1)
    );
    assert_eq!(r["utilisation"], json!(0.4));
    assert_eq!(r["dna_rate"], json!(0.5));
    assert_eq!(r["patient_cancellation_rate"], json!(0.25));
    assert_eq!(r["new_to_follow_up"], Value::Null, "no follow-ups");

    // Per clinic over both weeks; as CSV, a header and one row.
    let to = yesterday + Duration::days(7);
    let (_, v) = app
        .get(
            &format!("/reports/utilisation?from={yesterday}&to={to}"),
            &clerk,
        )
        .await;
    assert_eq!(
        (
            v["rows"][0]["sessions"].as_i64(),
            v["rows"][0]["used"].as_i64()
        ),
        (Some(2), Some(3)),
        "{v}"
    );
    let csv = app
        .client
        .get(format!(
            "{}/reports/utilisation?from={yesterday}&to={to}&format=csv",
            app.base
        ))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(
            "clinic_code,treatment_function,session_id,on_date,sessions,capacity,used"
        ),
        "{text}"
    );
    assert!(lines[1].starts_with("UTIL,100,,,2,10,3,"), "{text}");

    // Capacity ahead: next week's five places, one booked.
    let (s, v) = app.get("/reports/capacity?weeks=3", &clerk).await;
    assert_eq!(s, 200, "{v}");
    let monday =
        |d: chrono::NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    let week = monday(slots[5].1.get(..10).map(|d| d.parse().unwrap()).unwrap()).to_string();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["week"] == week.as_str())
        .cloned();
    assert_eq!(
        row.map(|r| (
            r["capacity"].clone(),
            r["booked"].clone(),
            r["free"].clone()
        )),
        Some((json!(5), json!(1), json!(4))),
        "{v}"
    );

    for bad in [
        "/reports/utilisation?by=week",
        "/reports/utilisation?from=2026-02-30",
        "/reports/capacity?weeks=0",
        "/reports/capacity?colour=red",
    ] {
        let (s, p) = app.get(bad, &clerk).await;
        assert_eq!(s, 422, "{bad}: {p}");
    }
    app.stop().await;
}
