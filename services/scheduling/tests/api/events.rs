//! What the others are told, read back from the broker as they would read it: a booking
//! (the access service grants the clinic's team), and each close with the clock-event
//! contract's RTT part — the first appointment of the period derived, not typed in.
use crate::helpers::*;
use chrono::{Duration, Utc};
use prost::Message as _;
use serde_json::json;
use std::time::Duration as StdDuration;
use tessera_proto::scheduling::v1::{AppointmentBooked, AppointmentClosed};
use tessera_testkit as kit;

#[tokio::test]
async fn bookings_and_closes_reach_the_broker_with_the_first_appointment_derived() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "EVENTS").await;
    let day = Utc::now().date_naive() - Duration::days(1);
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "08:00",
                    "ends": "10:30", "slot_minutes": 30, "slot_type": "new", "valid_from": day.to_string() }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let slots: Vec<String> = app
        .slots(0, &clinic)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let p = app.patient(0).await;
    let book = |slot: String| {
        let (app, p, clerk) = (&app, p.clone(), clerk.clone());
        async move {
            let (s, a) = app
                .post(
                    "/appointments",
                    &clerk,
                    json!({ "slot_id": slot, "patient_id": p, "ppid": "RXR0000000000000042", "ppid_issuer": "rxr" }),
                )
                .await;
            assert_eq!(s, 201, "{a}");
            a["id"].as_str().unwrap().to_string()
        }
    };
    let outcome = |id: String, outcome: &'static str| {
        let (app, clerk) = (&app, clerk.clone());
        async move {
            let (s, o) = app
                .post(
                    &format!("/appointments/{id}/outcome"),
                    &clerk,
                    json!({ "outcome": outcome }),
                )
                .await;
            assert_eq!(s, 200, "{o}");
        }
    };
    // 08:00 not attended (the period's first: it nullifies the clock); 08:30 attended (still
    // the first seen); 09:00 attended (not the first); 09:30 cancelled by the provider.
    let a1 = book(slots[0].clone()).await;
    outcome(a1.clone(), "did-not-attend").await;
    let a2 = book(slots[1].clone()).await;
    outcome(a2.clone(), "attended").await;
    let a3 = book(slots[2].clone()).await;
    outcome(a3.clone(), "attended").await;
    // 09:30 booked, then moved by the patient to 10:00 (a reschedule), which the provider
    // cancels.
    let a4 = book(slots[3].clone()).await;
    let (s, moved) = app
        .post(
            &format!("/appointments/{a4}/reschedule"),
            &clerk,
            json!({ "slot_id": slots[4], "by": "patient" }),
        )
        .await;
    assert_eq!(s, 201, "{moved}");
    let a5 = moved["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            &format!("/appointments/{a5}/cancel"),
            &clerk,
            json!({ "by": "provider", "reason": "theatre overrun" }),
        )
        .await;
    assert_eq!(s, 200);
    let topic = format!(
        "tessera.{}.scheduling.appointment",
        app.tenants[0].to_lowercase()
    );
    let events = kit::read_events(&app.kafka, &topic, 10, StdDuration::from_secs(30)).await;
    let booked: Vec<AppointmentBooked> = events
        .iter()
        .filter(|e| {
            e.headers.get("ce_type").map(String::as_str)
                == Some("uk.nhs.tessera.scheduling.AppointmentBooked.v1")
        })
        .map(|e| AppointmentBooked::decode(e.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(booked.len(), 5, "{events:?}");
    // The booking after the first appointment's DNA is the rebooking that restarts the
    // clock; none other is. The reschedule names the appointment it replaced.
    let rebooking: Vec<bool> = booked.iter().map(|b| b.rebooking_after_first_dna).collect();
    assert_eq!(rebooking, [false, true, false, false, false]);
    assert_eq!(booked[4].appointment_id, a5);
    assert_eq!(booked[4].rescheduled_from, a4);
    assert_eq!(booked[0].rescheduled_from, "");
    assert!(booked
        .iter()
        .all(|b| b.patient_id == p && b.team == "GSURG"));
    assert!(
        booked[0].starts_at.ends_with(":00:00+00:00")
            || booked[0].starts_at.ends_with(":00:00+01:00")
    );
    let closed: Vec<AppointmentClosed> = events
        .iter()
        .filter(|e| {
            e.headers.get("ce_type").map(String::as_str)
                == Some("uk.nhs.tessera.scheduling.AppointmentClosed.v1")
        })
        .map(|e| AppointmentClosed::decode(e.payload.as_slice()).unwrap())
        .collect();
    let by_id = |id: &str| {
        closed
            .iter()
            .find(|c| c.appointment_id == id)
            .cloned()
            .unwrap()
    };
    let (c1, c2, c3, c4, c5) = (by_id(&a1), by_id(&a2), by_id(&a3), by_id(&a4), by_id(&a5));
    assert_eq!(
        (
            c1.attendance.as_str(),
            c1.first_appointment,
            c1.communicated
        ),
        ("3", true, true)
    );
    assert_eq!(
        (c1.ppid.as_str(), c1.ppid_issuer.as_str()),
        ("RXR0000000000000042", "RXR")
    );
    assert_eq!(c1.appointment_date, day.to_string());
    assert_eq!((c2.attendance.as_str(), c2.first_appointment), ("5", true));
    assert_eq!((c3.attendance.as_str(), c3.first_appointment), ("5", false));
    assert_eq!(
        (c4.attendance.as_str(), c4.outcome.as_str()),
        ("2", "cancelled"),
        "a reschedule cancels the old appointment as the asker's"
    );
    assert_eq!(
        (c5.attendance.as_str(), c5.outcome.as_str()),
        ("4", "cancelled")
    );
    // Keyed by patient, so one patient's events keep their order.
    assert!(events.iter().all(|e| e.key.as_deref() == Some(p.as_str())));
    // A bad RTT status or a discharge without a DNA is refused, and nothing is told.
    let (s, e) = app
        .post(
            &format!("/appointments/{a5}/outcome"),
            &clerk,
            json!({ "outcome": "attended", "rtt_status": "33" }),
        )
        .await;
    assert_eq!(
        (s, e["errors"][0]["field"].as_str()),
        (422, Some("rtt_status")),
        "{e}"
    );
    app.stop().await;
}
