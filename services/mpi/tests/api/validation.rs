//! Invalid NHS numbers are refused with 422 naming the field; nothing is written; no event.
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_testkit as kit;

const BAD: &[(&str, &str)] = &[
    ("9434765918", "nhs-number.check-digit"),
    ("1234567890", "nhs-number.check-value-10"),
    ("9991234560", "nhs-number.check-value-10"),
    ("12345", "nhs-number.length"),
    ("94347659190", "nhs-number.length"),
    ("987654321X", "nhs-number.not-numeric"),
];

#[tokio::test]
async fn invalid_nhs_numbers_are_refused_by_the_json_api_and_nothing_is_written() {
    let app = TestApp::spawn(1).await;
    for (n, code) in BAD {
        let r = app.register(&app.clerk(0), &jane(Some(n))).await;
        assert_eq!(r.status(), 422, "{n}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "nhs_number", "{n}");
        assert_eq!(body["errors"][0]["code"], *code, "{n}");
    }
    assert_eq!(app.patient_count(0).await, 0);
    assert_no_patient_events_then_one(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn invalid_nhs_numbers_are_refused_by_fhir_with_an_operation_outcome() {
    let app = TestApp::spawn(1).await;
    for (n, code) in BAD {
        let body = json!({
            "resourceType": "Patient",
            "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": n }],
            "name": [{ "family": "Testpatient", "given": ["Jane"] }],
            "gender": "female",
            "birthDate": "1970-01-01"
        });
        let r = app
            .post("/fhir/Patient", &app.clerk(0), &body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{n}");
        assert_eq!(r.headers()["content-type"], "application/fhir+json");
        let oo: Value = r.json().await.unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["expression"][0], "Patient.identifier", "{n}");
        assert_eq!(oo["issue"][0]["details"]["coding"][0]["code"], *code, "{n}");
        assert!(oo["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("nhs_number"));
    }
    assert_eq!(app.patient_count(0).await, 0);
    assert_no_patient_events_then_one(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_and_incomplete_bodies_get_clear_errors_and_change_nothing() {
    let app = TestApp::spawn(1).await;
    let r = app
        .client
        .post(format!("{}/patients", app.base))
        .bearer_auth(app.clerk(0))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .register(
            &app.clerk(0),
            &json!({ "birth_date": "1970-13-01", "names": [] , "administrative_sex": "dragon"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"names")
            && fields.contains(&"birth_date")
            && fields.contains(&"administrative_sex"),
        "{fields:?}"
    );
    let r = app
        .register(&app.clerk(0), &json!({ "unexpected": 1 }))
        .await;
    assert_eq!(r.status(), 400);
    let mut bad_postcode = jane(None);
    bad_postcode["addresses"][0]["postcode"] = json!("NOT A CODE");
    let r = app.register(&app.clerk(0), &bad_postcode).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "addresses[0].postcode");
    assert_eq!(app.patient_count(0).await, 0);
    app.stop().await;
}

/// After the refusals, one valid registration: its event is the only one on the topic, so
/// none of the refused ones leaked an event.
async fn assert_no_patient_events_then_one(app: &TestApp) {
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    let msgs = kit::read_topic(&app.kafka, &topic, 1, Duration::from_secs(15)).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].key.as_deref(), p["id"].as_str());
}

#[tokio::test]
async fn every_route_refuses_control_characters_and_over_long_text_at_the_edge() {
    let app = TestApp::spawn(1).await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = app.clerk(0);
    let failures = kit::bad_text::probe_every_operation(&app.client, &app.base, &token, &doc).await;
    assert!(failures.is_empty(), "{failures:#?}");
    // The classes the outside client found: a NUL in a search parameter, in a family name, in
    // a FHIR `$match`; a family name far over any limit. Each refused, nothing written.
    let r = app
        .get("/patients?family=Sm%00ith", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut nul_name = jane(None);
    nul_name["names"][0]["family"] = json!("Test\u{0}patient");
    let mut long_name = jane(None);
    long_name["names"][0]["family"] = json!("x".repeat(100_000));
    for body in [nul_name, long_name] {
        let r = app.register(&token, &body).await;
        assert_eq!(r.status(), 400);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "input.invalid-text");
        assert_eq!(problem["errors"][0]["field"], "body/names/0/family");
    }
    let r = app
        .post(
            "/fhir/Patient/$match",
            &token,
            &json!({ "resourceType": "Parameters", "parameter": [{ "name": "resource",
                "resource": { "resourceType": "Patient", "name": [{ "family": "A\u{0}" }] } }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(app.patient_count(0).await, 0);
    app.stop().await;
}
