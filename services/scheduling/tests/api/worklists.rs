//! The referral worklists, fed through the broker by the referrals service's events as it
//! publishes them: ready to book (accepted, not booked; 2WW, urgent, routine), and slot
//! issues (no free slot of the treatment function before the priority's target).
use crate::helpers::*;
use prost::Message as _;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_proto::referrals::v1 as pb;
use tessera_testkit as kit;

async fn referral(app: &TestApp, patient: &str, priority: &str, tf: &str, accept: bool) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let topic = format!(
        "tessera.{}.referrals.referral",
        app.tenants[0].to_lowercase()
    );
    let received = pb::ReferralReceived {
        referral_id: id.clone(),
        patient_id: patient.into(),
        priority: priority.into(),
        specialty: tf.into(),
        treatment_function: tf.into(),
        received_on: chrono::Utc::now().date_naive().to_string(),
        ppid: format!("RXR{:017}", rand_digits()),
        ppid_issuer: "RXR".into(),
        state: "AWAITING_TRIAGE".into(),
        ..Default::default()
    };
    kit::produce(
        &app.kafka,
        &topic,
        patient,
        "uk.nhs.tessera.referrals.ReferralReceived.v1",
        received.encode_to_vec(),
    )
    .await;
    if accept {
        let changed = pb::ReferralStateChanged {
            referral_id: id.clone(),
            patient_id: patient.into(),
            from_state: "AWAITING_TRIAGE".into(),
            to_state: "ACCEPTED".into(),
            ..Default::default()
        };
        kit::produce(
            &app.kafka,
            &topic,
            patient,
            "uk.nhs.tessera.referrals.ReferralStateChanged.v1",
            changed.encode_to_vec(),
        )
        .await;
    }
    id
}

fn rand_digits() -> u64 {
    u64::from(uuid::Uuid::new_v4().as_fields().0) % 100_000_000_000
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["referral_id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn accepted_referrals_wait_to_be_booked_by_priority_and_those_no_slot_can_serve_are_slot_issues(
) {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "READY").await;
    let day = tomorrow();
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "09:00",
                    "ends": "10:00", "slot_minutes": 30, "slot_type": "new", "valid_from": day.to_string() }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let (p1, p2, p3, p4) = (
        app.patient(0).await,
        app.patient(0).await,
        app.patient(0).await,
        app.patient(0).await,
    );
    let routine = referral(&app, &p1, "routine", "100", true).await;
    let two_week = referral(&app, &p2, "two-week-wait", "100", true).await;
    let _untriaged = referral(&app, &p3, "urgent", "100", false).await;
    // Cardiology (320): this trust has no clinic for it, so no slot can serve it.
    let cardiology = referral(&app, &p4, "urgent", "320", true).await;

    let arrived = kit::wait_until(Duration::from_secs(20), || async {
        ids(&app.get("/worklists/ready-to-book", &clerk).await.1).len() == 3
    })
    .await;
    let (_, list) = app.get("/worklists/ready-to-book", &clerk).await;
    assert!(
        arrived,
        "the accepted referrals never reached the worklist: {list}"
    );
    assert_eq!(
        ids(&list),
        vec![two_week.clone(), cardiology.clone(), routine.clone()],
        "2WW, urgent, routine"
    );
    assert_eq!(list["items"][0]["priority"], "two-week-wait");
    assert!(list["items"][0]["ppid"]
        .as_str()
        .unwrap()
        .starts_with("RXR"));
    let (s, filtered) = app
        .get("/worklists/ready-to-book?treatment_function=320", &clerk)
        .await;
    assert_eq!((s, ids(&filtered)), (200, vec![cardiology.clone()]));

    let (s, issues) = app.get("/worklists/slot-issues", &clerk).await;
    assert_eq!(
        (s, ids(&issues)),
        (200, vec![cardiology.clone()]),
        "only the one no clinic serves"
    );

    // Booked against its referral, the 2WW referral leaves the list at once.
    let slot = app.slots(0, &clinic).await[0].0.clone();
    let (s, a) = app
        .post(
            "/appointments",
            &clerk,
            json!({ "slot_id": slot, "patient_id": p2, "referral_id": two_week }),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let (_, list) = app.get("/worklists/ready-to-book", &clerk).await;
    assert_eq!(ids(&list), vec![cardiology, routine]);

    // Bad filters are refused with the field named and nothing read.
    for bad in [
        "?priority=soon",
        "?treatment_function=1x0",
        "?limit=0",
        "?colour=red",
    ] {
        let (s, p) = app
            .get(&format!("/worklists/ready-to-book{bad}"), &clerk)
            .await;
        assert_eq!(s, 422, "{bad}: {p}");
        assert!(p["errors"][0]["field"].is_string(), "{p}");
    }
    app.stop().await;
}
