use crate::helpers::*;
use prost::Message;
use serde_json::Value;
use std::time::Duration;
use tessera_proto::mpi::v1::{PatientRegistered, PatientUpdated};
use tessera_testkit as kit;

#[tokio::test]
async fn registration_and_update_publish_protobuf_events_with_cloudevents_headers_in_order() {
    let app = TestApp::spawn(1).await;
    let (tp, trace_id) = traceparent();
    let r = app
        .post("/patients", &app.clerk(0), &jane(Some("9434765919")))
        .header("traceparent", tp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    let id = p["id"].as_str().unwrap();
    let mut moved = jane(Some("9434765919"));
    moved["telecom"][0]["value"] = "07700900123".into();
    assert_eq!(
        app.put(&format!("/patients/{id}"), &app.clerk(0), &moved)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    let msgs = kit::read_topic(&app.kafka, &topic, 2, Duration::from_secs(15)).await;
    assert_eq!(msgs.len(), 2);
    let (first, second) = (&msgs[0], &msgs[1]);
    assert_eq!(first.key.as_deref(), Some(id));
    assert_eq!(
        first.headers["ce_type"],
        "uk.nhs.tessera.mpi.PatientRegistered.v1"
    );
    assert_eq!(first.headers["ce_source"], "/tessera/mpi");
    assert_eq!(first.headers["ce_subject"], id);
    assert_eq!(first.headers["ce_specversion"], "1.0");
    assert!(uuid::Uuid::parse_str(&first.headers["ce_id"]).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(&first.headers["ce_time"]).is_ok());
    // The event joins the request's trace.
    assert!(
        first.headers["traceparent"].contains(&trace_id),
        "{:?}",
        first.headers
    );

    let registered = PatientRegistered::decode(first.payload.as_slice()).unwrap();
    assert_eq!(registered.patient_id, id);
    assert_eq!(registered.tenant, app.tenant(0));
    assert_eq!(registered.version, 1);
    let d = registered.demographics.unwrap();
    assert_eq!(d.nhs_number, "9434765919");
    assert_eq!(d.nhs_number_verification_status, "01");
    assert_eq!(d.names[0].family, "Testpatient");
    assert_eq!(d.birth_date, "1970-01-01");

    assert_eq!(
        second.headers["ce_type"],
        "uk.nhs.tessera.mpi.PatientUpdated.v1"
    );
    let updated = PatientUpdated::decode(second.payload.as_slice()).unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.changed_fields, vec!["telecom".to_string()]);
    // Same key, same partition: one patient's events stay in order.
    assert_eq!(first.partition, second.partition);
    assert!(first.offset < second.offset);
    app.stop().await;
}

#[tokio::test]
async fn an_update_that_changes_nothing_publishes_nothing() {
    let app = TestApp::spawn(1).await;
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap();
    let r = app
        .put(
            &format!("/patients/{id}"),
            &app.clerk(0),
            &jane(Some("9434765919")),
        )
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 1);
    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    // Wait for the registration's event, then give a (wrong) second one time to show up.
    assert_eq!(
        kit::read_topic(&app.kafka, &topic, 1, Duration::from_secs(15))
            .await
            .len(),
        1
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let msgs = kit::read_topic(&app.kafka, &topic, 2, Duration::from_secs(3)).await;
    assert_eq!(msgs.len(), 1);
    app.stop().await;
}
