//! Booking one at a time: holds, cancellations by the patient and the provider, outcomes,
//! rescheduling, a cancelled session, and the patients the trust does not have.
use crate::helpers::*;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

/// A clinic with one session tomorrow of `slots` 10-minute slots of `capacity`.
async fn clinic_tomorrow(
    app: &TestApp,
    code: &str,
    slots: u32,
    capacity: u32,
) -> (String, Vec<String>) {
    let clinic = app.clinic(0, code).await;
    let day = tomorrow();
    let ends = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        + Duration::minutes(10 * i64::from(slots));
    let template = app
        .template(
            0,
            &clinic,
            json!({
                "pattern": { "every": "week", "weekday": weekday(day) },
                "starts": "09:00", "ends": ends.format("%H:%M").to_string(), "slot_minutes": 10,
                "capacity": capacity, "overbook": 1, "slot_type": "new", "valid_from": day.to_string()
            }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let slots = app
        .slots(0, &clinic)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    (clinic, slots)
}

async fn book(app: &TestApp, slot: &str, patient: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({ "slot_id": slot, "patient_id": patient });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.post("/appointments", &app.clerk(0), body).await
}

#[tokio::test]
async fn a_hold_keeps_the_last_place_until_it_lapses_and_staff_may_overbook_within_the_allowance() {
    let app = TestApp::spawn_with(1, |c| c.booking.hold_seconds = 2).await;
    let clerk = app.clerk(0);
    let (_, slots) = clinic_tomorrow(&app, "HOLD", 1, 1).await;
    let (p1, p2, p3) = (
        app.patient(0).await,
        app.patient(0).await,
        app.patient(0).await,
    );
    let (s, hold) = app
        .post(&format!("/slots/{}/holds", slots[0]), &clerk, json!({}))
        .await;
    assert_eq!(s, 201, "{hold}");
    let (s, e) = book(&app, &slots[0], &p1, json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("slot.full")),
        "the hold keeps the place"
    );
    let (s, a) = book(&app, &slots[0], &p2, json!({ "hold_id": hold["id"] })).await;
    assert_eq!(s, 201, "the holder books it: {a}");
    // Full: staff may overbook by the slot's allowance (1), and no further.
    let (s, o) = book(&app, &slots[0], &p1, json!({ "overbook": true })).await;
    assert_eq!((s, o["overbooked"].as_bool()), (201, Some(true)), "{o}");
    let (s, e) = book(&app, &slots[0], &p3, json!({ "overbook": true })).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("slot.full")));
    // A hold on another slot lapses by itself.
    let (_, slots2) = clinic_tomorrow(&app, "HOLD2", 1, 1).await;
    let (s, _) = app
        .post(&format!("/slots/{}/holds", slots2[0]), &clerk, json!({}))
        .await;
    assert_eq!(s, 201);
    let (s, _) = book(&app, &slots2[0], &p3, json!({})).await;
    assert_eq!(s, 409);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (s, a) = book(&app, &slots2[0], &p3, json!({})).await;
    assert_eq!(s, 201, "the hold lapsed: {a}");
    app.stop().await;
}

#[tokio::test]
async fn cancellations_outcomes_and_rescheduling_keep_the_places_right() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let (_, slots) = clinic_tomorrow(&app, "GEN", 3, 1).await;
    let p = app.patient(0).await;
    let (s, a) = book(&app, &slots[0], &p, json!({})).await;
    assert_eq!(
        (s, a["status"].as_str(), a["attendance_code"].as_i64()),
        (201, Some("booked"), Some(0))
    );
    let id = a["id"].as_str().unwrap();
    // Tomorrow's appointment has no outcome yet.
    let (s, e) = app
        .post(
            &format!("/appointments/{id}/outcome"),
            &clerk,
            json!({ "outcome": "attended" }),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("appointment.not-yet")));
    // Rescheduled to the next slot: one transaction, the old cancelled as the patient's.
    let (s, moved) = app
        .post(
            &format!("/appointments/{id}/reschedule"),
            &clerk,
            json!({ "slot_id": slots[1], "by": "patient" }),
        )
        .await;
    assert_eq!(s, 201, "{moved}");
    assert_eq!(moved["rescheduled_from"], id);
    let (_, old) = app.get(&format!("/appointments/{id}"), &clerk).await;
    assert_eq!(
        (old["status"].as_str(), old["attendance_code"].as_i64()),
        (Some("cancelled"), Some(2))
    );
    let (_, s0) = app.get(&format!("/slots/{}", slots[0]), &clerk).await;
    let (_, s1) = app.get(&format!("/slots/{}", slots[1]), &clerk).await;
    assert_eq!(
        (s0["booked"].as_i64(), s1["booked"].as_i64()),
        (Some(0), Some(1))
    );
    // A provider cancellation: code 4, and the patient goes on the rebooking worklist.
    let new_id = moved["id"].as_str().unwrap();
    let (s, c) = app
        .post(
            &format!("/appointments/{new_id}/cancel"),
            &clerk,
            json!({ "by": "provider", "reason": "clinician unwell" }),
        )
        .await;
    assert_eq!((s, c["attendance_code"].as_i64()), (200, Some(4)), "{c}");
    let (_, list) = app.get("/worklists/rebook", &clerk).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["appointment_id"] == new_id),
        "{list}"
    );
    let (s, e) = app
        .post(
            &format!("/appointments/{new_id}/cancel"),
            &clerk,
            json!({ "by": "patient", "reason": "again" }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("appointment.not-booked"))
    );
    // Booked again: off the worklist.
    let (s, _) = book(&app, &slots[2], &p, json!({})).await;
    assert_eq!(s, 201);
    let (_, list) = app.get("/worklists/rebook", &clerk).await;
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["appointment_id"] == new_id),
        "{list}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_did_not_attend_is_recorded_on_the_day_and_goes_on_the_rebooking_worklist() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "PAST").await;
    let day = Utc::now().date_naive() - Duration::days(1);
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "08:00",
                    "ends": "08:30", "slot_minutes": 30, "slot_type": "new", "valid_from": day.to_string() }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let slot = app.slots(0, &clinic).await.remove(0).0;
    let p = app.patient(0).await;
    let (s, a) = book(&app, &slot, &p, json!({})).await;
    assert_eq!(s, 201, "a retrospective booking is allowed: {a}");
    let id = a["id"].as_str().unwrap();
    let (s, o) = app
        .post(
            &format!("/appointments/{id}/outcome"),
            &clerk,
            json!({ "outcome": "did-not-attend" }),
        )
        .await;
    assert_eq!(
        (s, o["status"].as_str(), o["attendance_code"].as_i64()),
        (200, Some("did-not-attend"), Some(3)),
        "{o}"
    );
    let (_, list) = app.get("/worklists/rebook", &clerk).await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["appointment_id"] == id)
        .cloned();
    assert_eq!(
        item.map(|i| i["reason"].clone()),
        Some(json!("did-not-attend"))
    );
    let (s, e) = app
        .post(
            &format!("/appointments/{id}/outcome"),
            &clerk,
            json!({ "outcome": "attended" }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("appointment.not-booked"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cancelled_session_cancels_its_twenty_appointments_and_lists_every_patient() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let (clinic, slots) = clinic_tomorrow(&app, "LEAVE", 20, 1).await;
    assert_eq!(slots.len(), 20);
    for slot in &slots {
        let p = app.patient(0).await;
        let (s, a) = book(&app, slot, &p, json!({})).await;
        assert_eq!(s, 201, "{a}");
    }
    let session = app
        .scalar(&format!(
            "SELECT count(DISTINCT session_id) AS n FROM {}.slot WHERE clinic_id = '{clinic}'",
            app.schema(0)
        ))
        .await;
    assert_eq!(session, 1);
    let (_, rows) = app.get(&format!("/slots/{}", slots[0]), &clerk).await;
    let session_id = rows["session_id"].as_str().unwrap().to_string();
    let (s, c) = app
        .post(
            &format!("/sessions/{session_id}/cancel"),
            &clerk,
            json!({ "reason": "clinician on leave" }),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["cancelled"].as_array().map(Vec::len), Some(20));
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.appointment WHERE status = 'cancelled' AND attendance_code = 4")).await,
        20
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.rebook WHERE reason = 'session-cancelled' AND done_at IS NULL")).await,
        20
    );
    let p = app.patient(0).await;
    let (s, e) = book(&app, &slots[3], &p, json!({})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("slot.unavailable")));
    let (_, free) = app.get(&format!("/slots?clinic={clinic}"), &clerk).await;
    assert_eq!(free["slots"].as_array().map(Vec::len), Some(0), "{free}");
    app.stop().await;
}

#[tokio::test]
async fn a_patient_the_trust_does_not_have_is_refused_and_nothing_is_booked() {
    let app = TestApp::spawn(1).await;
    let (_, slots) = clinic_tomorrow(&app, "WHO", 1, 1).await;
    let stranger = uuid::Uuid::new_v4().to_string();
    let (s, e) = book(&app, &slots[0], &stranger, json!({})).await;
    assert_eq!(
        (
            s,
            e["errors"][0]["code"].as_str(),
            e["errors"][0]["field"].as_str()
        ),
        (422, Some("patient.unknown"), Some("patient_id")),
        "{e}"
    );
    let fresh = uuid::Uuid::now_v7().to_string();
    let (s, e) = book(&app, &slots[0], &fresh, json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (503, Some("patient.not-yet-known")),
        "{e}"
    );
    let (s, e) = book(&app, "not-a-slot", &fresh, json!({})).await;
    assert_eq!(s, 422, "{e}");
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.appointment",
            app.schema(0)
        ))
        .await;
    assert_eq!(n, 0);
    app.stop().await;
}

/// A booking retried with its `Idempotency-Key` (the answer was lost) gets the first booking
/// back and books nothing more; the key reused for another booking is refused.
#[tokio::test]
async fn a_retried_booking_is_answered_with_the_first_and_books_once() {
    let app = TestApp::spawn(1).await;
    let (_, slots) = clinic_tomorrow(&app, "IDEM", 2, 3).await;
    let p = app.patient(0).await;
    let key = uuid::Uuid::new_v4().to_string();
    let send = |slot: String| {
        let (app, key, p) = (&app, key.clone(), p.clone());
        async move {
            let r = app
                .client
                .post(format!("{}/appointments", app.base))
                .bearer_auth(app.clerk(0))
                .header("Idempotency-Key", key)
                .json(&json!({ "slot_id": slot, "patient_id": p }))
                .send()
                .await
                .unwrap();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (
                r.status().as_u16(),
                replayed,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s1, r1, first) = send(slots[0].clone()).await;
    let (s2, r2, again) = send(slots[0].clone()).await;
    assert_eq!((s1, r1, s2, r2), (201, false, 201, true), "{again}");
    assert_eq!(first["id"], again["id"]);
    let (s3, _, other) = send(slots[1].clone()).await;
    assert_eq!(
        (s3, other["code"].as_str()),
        (422, Some("idempotency.mismatch")),
        "{other}"
    );
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.appointment WHERE patient_id = '{p}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT booked::bigint AS n FROM {schema}.slot WHERE id = '{}'",
            slots[0]
        ))
        .await,
        1
    );
    // One booking, one event: once the outbox is empty, the topic holds exactly one.
    let published = tessera_testkit::wait_until(std::time::Duration::from_secs(30), || async {
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.outbox"))
            .await
            == 0
    })
    .await;
    assert!(published);
    let topic = format!(
        "tessera.{}.scheduling.appointment",
        app.tenants[0].to_lowercase()
    );
    let events =
        tessera_testkit::read_events(&app.kafka, &topic, 2, std::time::Duration::from_secs(5))
            .await;
    assert_eq!(events.len(), 1, "one booking, one event");
    app.stop().await;
}
