//! ADR 21: a referral (JSON or FHIR `ServiceRequest`) for a patient the trust does not have
//! is refused; the projection that decides it follows the MPI's events through the broker.
use crate::helpers::*;
use prost::Message as _;
use serde_json::Value;
use std::time::Duration;
use tessera_proto::mpi::v1 as mpi;
use tessera_testkit as kit;

#[tokio::test]
async fn a_referral_for_a_patient_the_trust_does_not_have_is_refused_and_writes_nothing() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let stranger = uuid::Uuid::new_v4().to_string();
    let (s, v) = app
        .post("/referrals", &t, gp_referral(&stranger, "GSURG", "100", 1))
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (422, Some("patient.unknown")),
        "{v}"
    );
    let r = app
        .req(reqwest::Method::POST, "/fhir/ServiceRequest", &t)
        .header("content-type", "application/fhir+json")
        .body(crate::fhir::service_request(&stranger, &ubrn()).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(oo.to_string().contains("patient.unknown"), "{oo}");
    let schema = app.schema(0);
    let rows = app
        .scalar(&format!(
            "SELECT (SELECT count(*) FROM {schema}.referral) + (SELECT count(*) FROM {schema}.pathway) AS n"
        ))
        .await;
    assert_eq!(rows, 0);

    // Registered a moment ago: 503 with Retry-After until the MPI's event arrives, then 201.
    let newborn = uuid::Uuid::now_v7().to_string();
    let r = app
        .req(reqwest::Method::POST, "/referrals", &t)
        .json(&gp_referral(&newborn, "GSURG", "100", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let registered = mpi::PatientRegistered {
        patient_id: newborn.clone(),
        tenant: app.tenant(0).into(),
        version: 1,
        demographics: None,
        registered_at: chrono::Utc::now().to_rfc3339(),
    };
    kit::produce(
        &app.kafka,
        &app.topic(0, "mpi", "patient"),
        &newborn,
        "uk.nhs.tessera.mpi.PatientRegistered.v1",
        registered.encode_to_vec(),
    )
    .await;
    let accepted = kit::wait_until(Duration::from_secs(20), || async {
        app.post("/referrals", &t, gp_referral(&newborn, "GSURG", "100", 1))
            .await
            .0
            == 201
    })
    .await;
    assert!(accepted, "the registered patient never became known");
    app.stop().await;
}
