//! A patient registered in one trust does not exist for another: every endpoint answers 404
//! (so existence does not leak) and the other trust's topics never carry it.
use crate::helpers::*;
use prost::Message;
use serde_json::Value;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn a_patient_in_one_trust_is_invisible_to_another_on_every_endpoint_and_topic() {
    let app = TestApp::spawn(2).await;
    let (a, b) = (app.tenant(0).to_string(), app.tenant(1).to_string());
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap();
    let local = p["local_numbers"][0]["value"].as_str().unwrap();
    let other = app.token(&b, &[AMEND]);

    assert_eq!(
        app.get(&format!("/patients/{id}"), &other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/patients/{id}/history"), &other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/fhir/Patient/{id}"), &other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.put(&format!("/patients/{id}"), &other, &jane(None))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let mut fhir_body = serde_json::json!({"resourceType": "Patient", "id": id, "name": [{"family": "X"}], "birthDate": "1970-01-01"});
    fhir_body["gender"] = "female".into();
    assert_eq!(
        app.put(&format!("/fhir/Patient/{id}"), &other, &fhir_body)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    for q in [
        "/patients?nhs_number=9434765919".to_string(),
        format!("/patients?local_number={local}&assigner={a}"),
        "/patients?family=Testpatient&birth_date=1970-01-01".to_string(),
    ] {
        let v: Value = app
            .get(&q, &other)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["count"], 0, "{q}");
    }
    for q in [
        "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919".to_string(),
        "/fhir/Patient?family=Testpatient&birthdate=1970-01-01".to_string(),
    ] {
        let v: Value = app
            .get(&q, &other)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["total"], 0, "{q}");
    }

    // The owning trust's topic has the event; the other's has nothing about this patient.
    let own = kit::read_topic(
        &app.kafka,
        &format!("tessera.{}.mpi.patient", a.to_lowercase()),
        1,
        Duration::from_secs(15),
    )
    .await;
    assert!(own.iter().any(|m| m.key.as_deref() == Some(id)));
    let theirs = kit::read_topic(
        &app.kafka,
        &format!("tessera.{}.mpi.patient", b.to_lowercase()),
        1,
        Duration::from_secs(3),
    )
    .await;
    assert!(
        theirs.is_empty(),
        "the other trust's patient topic carries an event"
    );
    // The other trust's audit stream records its own users' attempts — the id they typed and
    // the 404 they got, which is what an auditor must see — and nothing else about the
    // patient: no permitted access, no demographics (audit records carry none).
    let audit = kit::read_events(
        &app.kafka,
        &format!("tessera.{}.audit.events", b.to_lowercase()),
        9,
        Duration::from_secs(15),
    )
    .await;
    assert!(!audit.is_empty());
    for m in &audit {
        let r = tessera_proto::audit::v1::AuditRecord::decode(m.payload.as_slice()).unwrap();
        assert_eq!(r.tenant, b);
        assert_eq!(r.organisation, b);
        if r.patient_id == id {
            assert_eq!((r.outcome.as_str(), r.status), ("deny", 404), "{r:?}");
        }
    }
    app.stop().await;
}
