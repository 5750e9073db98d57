use crate::helpers::*;
use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_proto::access::v1 as pb;
use tessera_testkit as kit;

#[tokio::test]
async fn break_glass_is_granted_at_once_and_alerted_on_the_topic_and_in_the_queue_within_2_seconds()
{
    let app = TestApp::spawn(1).await;
    let p = app.known_patient(0).await;
    let body = json!({ "patient_id": p, "reason_code": "04", "justification": "unconscious in ED", "duration_seconds": 600 });
    // Only a role with the override activity.
    let plain = app.clinician(0, "dr-e");
    let (s, r) = app
        .send(Method::POST, "/break-glass", &plain, Some(body.clone()))
        .await;
    assert_eq!((s, r["code"].as_str()), (403, Some("access.activity")));
    let ed = app.token(0, "dr-e", "R8000", &[VIEW, OVERRIDE], &[]);
    let t0 = Instant::now();
    let (s, r) = app
        .send(Method::POST, "/break-glass", &ed, Some(body))
        .await;
    assert_eq!(s, 201, "{r}");
    let grant = &r["grant"];
    let granted =
        chrono::DateTime::parse_from_rfc3339(grant["granted_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(grant["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - granted).num_seconds(), 600);
    // The alert: in the queue, and on the alerts topic, within 2 seconds.
    let po = app.privacy_officer(0);
    let (_, q) = app.send(Method::GET, "/alerts", &po, None).await;
    let in_queue = t0.elapsed();
    let alerts = q["alerts"].as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["kind"], "break-glass");
    assert_eq!(alerts[0]["user_id"], "dr-e");
    assert_eq!(alerts[0]["justification"], "unconscious in ED");
    let topic = format!("tessera.{}.access.alerts", app.tenant(0).to_lowercase());
    let got = kit::read_topic(&app.kafka, &topic, 1, Duration::from_secs(2)).await;
    let on_topic = t0.elapsed();
    assert_eq!(got.len(), 1, "no alert on {topic} within 2 s");
    let alert = pb::AccessAlert::decode(got[0].payload.as_slice()).unwrap();
    assert_eq!(
        (
            alert.kind.as_str(),
            alert.patient_id.as_str(),
            alert.user_id.as_str()
        ),
        ("break-glass", p.as_str(), "dr-e")
    );
    assert_eq!(alert.id, alerts[0]["id"].as_str().unwrap());
    // read_topic settles 0.5 s after the message arrives.
    assert!(
        in_queue < Duration::from_secs(2) && on_topic < Duration::from_millis(2500),
        "queue {in_queue:?}, topic {on_topic:?}"
    );
    eprintln!(
        "alert in queue after {in_queue:?}, on topic (incl. 0.5 s settle) after {on_topic:?}"
    );
    // The grant is on the relationship topic for projections.
    let rel = format!(
        "tessera.{}.access.relationship",
        app.tenant(0).to_lowercase()
    );
    let got = kit::read_topic(&app.kafka, &rel, 1, Duration::from_secs(5)).await;
    assert!(got
        .iter()
        .any(|m| m.headers.get("ce_type").map(String::as_str)
            == Some(tessera_access::projection::types::BREAK_GLASS_GRANTED)));
    // Acknowledged with a note: gone from the open queue, kept in the full one.
    let id = alerts[0]["id"].as_str().unwrap();
    let (s, a) = app
        .send(
            Method::POST,
            &format!("/alerts/{id}/acknowledge"),
            &po,
            Some(json!({ "note": "checked against ED attendance" })),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["acknowledged_by"], "po-1");
    assert_eq!(a["notes"][0]["note"], "checked against ED attendance");
    let (s, again) = app
        .send(
            Method::POST,
            &format!("/alerts/{id}/acknowledge"),
            &po,
            None,
        )
        .await;
    assert_eq!(
        (s, again["code"].as_str()),
        (409, Some("alert.acknowledged"))
    );
    let (_, open) = app.send(Method::GET, "/alerts", &po, None).await;
    assert_eq!(open["alerts"].as_array().unwrap().len(), 0);
    let (_, all) = app.send(Method::GET, "/alerts?status=all", &po, None).await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 1);
    let (s, n) = app
        .send(
            Method::POST,
            &format!("/alerts/{id}/notes"),
            &po,
            Some(json!({ "note": "closed" })),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(n["notes"].as_array().unwrap().len(), 2);
    // Only the privacy officer's roles see the queue.
    let (s, r) = app.send(Method::GET, "/alerts", &ed, None).await;
    assert_eq!((s, r["code"].as_str()), (403, Some("access.job-role")));
    app.stop().await;
}

#[tokio::test]
async fn break_glass_needs_a_reason_and_a_bounded_duration() {
    let app = TestApp::spawn(1).await;
    let ed = app.token(0, "dr-e", "R8000", &[VIEW, OVERRIDE], &[]);
    let p = app.known_patient(0).await;
    for (body, field) in [
        (
            json!({ "patient_id": p, "reason_code": "99", "justification": "x" }),
            "reason_code",
        ),
        (
            json!({ "patient_id": p, "reason_code": "04", "justification": "" }),
            "justification",
        ),
        (
            json!({ "patient_id": p, "reason_code": "04", "justification": "x", "duration_seconds": 0 }),
            "duration_seconds",
        ),
        (
            json!({ "patient_id": p, "reason_code": "04", "justification": "x", "duration_seconds": 86400 }),
            "duration_seconds",
        ),
    ] {
        let (s, r) = app
            .send(Method::POST, "/break-glass", &ed, Some(body.clone()))
            .await;
        assert_eq!(
            (s, r["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.break_glass"))
            .await,
        0
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.alert"))
            .await,
        0
    );
    app.stop().await;
}
