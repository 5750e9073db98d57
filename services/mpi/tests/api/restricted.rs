//! Restricted (S-flagged) patients: address, telecom and GP are removed for roles without
//! the permitting activity, in every response and in every event.
use crate::helpers::*;
use prost::Message;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_proto::mpi::v1::{PatientRegistered, PatientUpdated};
use tessera_testkit as kit;

const PERMITTED: &str = "B0083";

fn hidden(v: &Value) -> bool {
    v["addresses"] == json!([]) && v["telecom"] == json!([]) && v["general_practice"].is_null()
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{status} {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_restricted_patients_location_is_shown_only_to_roles_permitted_to_see_it() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let permitted = app.token(app.tenant(0), &[AMEND, PERMITTED]);
    let mut body = jane(Some("9000000025"));
    body["restricted"] = json!(true);
    let created = app.registered(0, &body).await;
    assert!(
        hidden(&created),
        "even the registering clerk sees no location: {created}"
    );
    let id = created["id"].as_str().unwrap().to_string();
    let open = app
        .registered(0, &jane_like("Open", "Patient", "1990-01-01"))
        .await;

    // JSON read, search, $match, history: hidden from the clerk; shown to the permitted role.
    let v = ok(app
        .get(&format!("/patients/{id}"), &clerk)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v), "{v}");
    assert_eq!(v["restricted"], true);
    assert_eq!(
        v["names"][0]["family"], "Testpatient",
        "who they are is not hidden"
    );
    let v = ok(app
        .get(&format!("/patients/{id}"), &permitted)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(v["addresses"][0]["postcode"], "LS1 4AP");
    assert_eq!(v["telecom"][0]["value"], "01132345678");
    assert_eq!(v["general_practice"], "A99999");
    let v = ok(app
        .get("/patients?family=testpatient&birth_date=1970-01-01", &clerk)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v["patients"][0]));
    let v = ok(app
        .get("/patients?nhs_number=9000000025", &clerk)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v["patients"][0]));
    let probe = json!({ "family": "Testpatient", "given": "Jane", "birth_date": "1970-01-01" });
    let v = ok(app
        .post("/patients/$match", &clerk, &probe)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v["candidates"][0]["patient"]), "{v}");
    let v = ok(app
        .get(&format!("/patients/{id}/history"), &clerk)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v["versions"][0]["demographics"]));

    // FHIR: meta.security R, and no address, telecom or generalPractitioner.
    let v = ok(app
        .get(&format!("/fhir/Patient/{id}"), &clerk)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(v["meta"]["security"][0]["code"], "R");
    assert!(
        v.get("address").is_none()
            && v.get("telecom").is_none()
            && v.get("generalPractitioner").is_none(),
        "{v}"
    );
    let v = ok(app
        .get(&format!("/fhir/Patient/{id}"), &permitted)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(v["address"][0]["postalCode"], "LS1 4AP");
    let v = ok(app
        .get(
            &format!("/fhir/Patient/{}", open["id"].as_str().unwrap()),
            &clerk,
        )
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(v["meta"]["security"][0]["code"], "U");

    // The clerk updates what they can see; the location they cannot see survives.
    let mut seen = ok(app
        .get(&format!("/patients/{id}"), &clerk)
        .send()
        .await
        .unwrap())
    .await;
    seen["names"][0]["given"] = json!(["Janet"]);
    for k in ["id", "version", "active", "created_at", "updated_at"] {
        seen.as_object_mut().unwrap().remove(k);
    }
    let v = ok(app
        .put(&format!("/patients/{id}"), &clerk, &seen)
        .send()
        .await
        .unwrap())
    .await;
    assert!(hidden(&v));
    let v = ok(app
        .get(&format!("/patients/{id}"), &permitted)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(v["names"][0]["given"][0], "Janet");
    assert_eq!(v["addresses"][0]["postcode"], "LS1 4AP");
    assert_eq!(v["restricted"], true, "nor can they lift the flag");

    // Events never carry the location.
    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    let msgs = kit::read_topic(&app.kafka, &topic, 3, Duration::from_secs(15)).await;
    let key = Some(id.as_str());
    let reg = msgs
        .iter()
        .find(|m| m.key.as_deref() == key && m.headers["ce_type"].ends_with("PatientRegistered.v1"))
        .unwrap();
    let d = PatientRegistered::decode(reg.payload.as_slice())
        .unwrap()
        .demographics
        .unwrap();
    assert!(
        d.restricted
            && d.addresses.is_empty()
            && d.telecom.is_empty()
            && d.general_practice.is_empty()
    );
    assert_eq!(d.names[0].family, "Testpatient");
    let upd = msgs
        .iter()
        .find(|m| m.key.as_deref() == key && m.headers["ce_type"].ends_with("PatientUpdated.v1"))
        .unwrap();
    let d = PatientUpdated::decode(upd.payload.as_slice())
        .unwrap()
        .demographics
        .unwrap();
    assert!(d.restricted && d.addresses.is_empty() && d.telecom.is_empty());
    let other = msgs
        .iter()
        .find(|m| m.key.as_deref() == open["id"].as_str())
        .unwrap();
    let d = PatientRegistered::decode(other.payload.as_slice())
        .unwrap()
        .demographics
        .unwrap();
    assert!(!d.restricted);
    app.stop().await;
}
