//! FHIR R4 UK Core Schedule, Slot and Appointment over the same rules as the JSON API:
//! booked by `POST`, cancelled or given their outcome by `PUT` (with `If-Match`), found by
//! patient, date and status. Every answer here is also parsed by `fhir.resources` in CI.
use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn fhir(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(app.clerk(0))
        .header("Accept", "application/fhir+json");
    if let Some(b) = body {
        r = r
            .header("Content-Type", "application/fhir+json")
            .body(b.to_string());
    }
    if let Some(m) = if_match {
        r = r.header("If-Match", m);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), etag)
}

fn total(b: &Value) -> u64 {
    b["total"].as_u64().unwrap_or(u64::MAX)
}

#[tokio::test]
async fn schedules_slots_and_appointments_are_booked_found_and_changed_in_fhir() {
    let app = TestApp::spawn(1).await;
    let clinic = app.clinic(0, "FHIR-GS").await;
    let day = tomorrow();
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "09:00",
                    "ends": "09:20", "slot_minutes": 10, "slot_type": "new", "valid_from": day.to_string() }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let slots = app.slots(0, &clinic).await;
    let p = app.patient(0).await;

    let (s, cap, _) = fhir(&app, Method::GET, "/fhir/metadata", None, None).await;
    assert_eq!(
        (s, cap["resourceType"].as_str()),
        (200, Some("CapabilityStatement"))
    );
    let (s, found, _) = fhir(
        &app,
        Method::GET,
        "/fhir/Schedule?identifier=FHIR-GS",
        None,
        None,
    )
    .await;
    assert_eq!((s, total(&found)), (200, 1), "{found}");
    assert_eq!(
        found["entry"][0]["resource"]["specialty"][0]["coding"][0]["code"],
        "100"
    );
    let (s, sched, _) = fhir(
        &app,
        Method::GET,
        &format!("/fhir/Schedule/{clinic}"),
        None,
        None,
    )
    .await;
    assert_eq!((s, sched["id"].as_str()), (200, Some(clinic.as_str())));

    let by_schedule = format!("/fhir/Slot?schedule=Schedule/{clinic}");
    let (s, free, _) = fhir(
        &app,
        Method::GET,
        &format!("{by_schedule}&status=free&service-type=new"),
        None,
        None,
    )
    .await;
    assert_eq!((s, total(&free)), (200, 2), "{free}");
    assert!(free["entry"][0]["resource"]["start"]
        .as_str()
        .unwrap()
        .ends_with(":00"));

    let booking = json!({ "resourceType": "Appointment", "status": "booked",
        "slot": [{ "reference": format!("Slot/{}", slots[0].0) }],
        "participant": [{ "actor": { "reference": format!("Patient/{p}") }, "status": "accepted" }] });
    let (s, a, etag) = fhir(
        &app,
        Method::POST,
        "/fhir/Appointment",
        Some(booking.clone()),
        None,
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(
        (a["status"].as_str(), etag.as_deref()),
        (Some("booked"), Some("W/\"1\""))
    );
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["slot"][0]["reference"], format!("Slot/{}", slots[0].0));
    // The place is taken: one busy, one free; the same slot again is a clear conflict.
    let (_, busy, _) = fhir(
        &app,
        Method::GET,
        &format!("{by_schedule}&status=busy"),
        None,
        None,
    )
    .await;
    assert_eq!(total(&busy), 1, "{busy}");
    let (s, clash, _) = fhir(&app, Method::POST, "/fhir/Appointment", Some(booking), None).await;
    assert_eq!(
        (s, clash["resourceType"].as_str()),
        (409, Some("OperationOutcome")),
        "{clash}"
    );

    let (s, mine, _) = fhir(
        &app,
        Method::GET,
        &format!("/fhir/Appointment?patient=Patient/{p}&status=booked"),
        None,
        None,
    )
    .await;
    assert_eq!((s, total(&mine)), (200, 1), "{mine}");
    let on_day = format!("/fhir/Appointment?date=ge{day}&date=le{day}");
    let (s, that_day, _) = fhir(&app, Method::GET, &on_day, None, None).await;
    assert_eq!((s, total(&that_day)), (200, 1), "{that_day}");

    // Cancelled by the patient, only against the version read.
    let mut cancel = a.clone();
    cancel["status"] = json!("cancelled");
    cancel["cancelationReason"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason", "code": "pat" }], "text": "on holiday" });
    let path = format!("/fhir/Appointment/{id}");
    let (s, stale, _) = fhir(
        &app,
        Method::PUT,
        &path,
        Some(cancel.clone()),
        Some("W/\"7\""),
    )
    .await;
    assert_eq!(
        (s, stale["issue"][0]["diagnostics"].is_string()),
        (412, true),
        "{stale}"
    );
    let (s, done, etag) = fhir(&app, Method::PUT, &path, Some(cancel), Some("W/\"1\"")).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (done["status"].as_str(), etag.as_deref()),
        (Some("cancelled"), Some("W/\"2\""))
    );
    assert_eq!(done["cancelationReason"]["coding"][0]["code"], "pat");
    let (_, read, _) = fhir(&app, Method::GET, &path, None, None).await;
    assert_eq!(read["status"], "cancelled");

    // What an update may not do, and bookings that say too little: told, nothing changed.
    let mut arrived = read.clone();
    arrived["status"] = json!("arrived");
    let (s, refused, _) = fhir(&app, Method::PUT, &path, Some(arrived), None).await;
    assert_eq!(s, 422, "{refused}");
    let (s, bad, _) = fhir(
        &app,
        Method::POST,
        "/fhir/Appointment",
        Some(json!({ "resourceType": "Appointment", "status": "booked" })),
        None,
    )
    .await;
    assert_eq!(s, 422, "{bad}");
    assert!(
        bad["issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["expression"][0] == "Appointment.slot"),
        "{bad}"
    );
    let (s, unbounded, _) = fhir(
        &app,
        Method::GET,
        "/fhir/Appointment?status=booked",
        None,
        None,
    )
    .await;
    assert_eq!(s, 422, "{unbounded}");
    let (s, _, _) = fhir(&app, Method::GET, "/fhir/Slot?start=2026-13-40", None, None).await;
    assert_eq!(s, 422);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.appointment",
            app.schema(0)
        ))
        .await,
        1
    );
    app.stop().await;
}
