//! ADR 21: the access service refuses a break-glass, a claimed relationship, a sharing
//! directive or a seal for a patient its trust does not have, deciding from its own
//! projection of the MPI's patient events (fed here through the broker).
use crate::helpers::*;
use prost::Message as _;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_proto::mpi::v1 as mpi;
use tessera_testkit as kit;

async fn mpi_event(app: &TestApp, key: &str, ce_type: &str, payload: Vec<u8>) {
    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    kit::produce(&app.kafka, &topic, key, ce_type, payload).await;
}

fn glass(p: &str) -> Value {
    json!({ "patient_id": p, "reason_code": "04", "justification": "unconscious in ED", "duration_seconds": 600 })
}

#[tokio::test]
async fn a_patient_the_trust_does_not_have_is_refused_and_one_the_mpi_registers_is_accepted() {
    let app = TestApp::spawn(1).await;
    let ed = app.token(0, "dr-e", "R8000", &[VIEW, AMEND, OVERRIDE], &[]);
    // An id the MPI never minted (or minted long ago) and never announced: a permanent 422,
    // on every write that names a patient; nothing written.
    let stranger = uuid::Uuid::new_v4().to_string();
    let writes = [
        (Method::POST, "/break-glass".to_string(), glass(&stranger)),
        (
            Method::POST,
            "/relationships".to_string(),
            json!({ "patient_id": stranger, "reason_code": "04", "justification": "seen in clinic", "days": 2 }),
        ),
        (
            Method::PUT,
            format!("/consent/{stranger}/sharing"),
            json!({ "sharing": "permit" }),
        ),
        (
            Method::PUT,
            format!("/seals/{stranger}/contact"),
            json!({ "level": "sealed", "users": ["dr-e"] }),
        ),
    ];
    for (method, path, body) in &writes {
        let (s, r) = app
            .send(method.clone(), path, &ed, Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{method} {path}: {r}");
        assert_eq!(r["errors"][0]["code"], "patient.unknown", "{path}: {r}");
    }
    let schema = app.schema(0);
    let rows = app
        .scalar(&format!(
            "SELECT (SELECT count(*) FROM {schema}.break_glass) + (SELECT count(*) FROM {schema}.relationship)
                  + (SELECT count(*) FROM {schema}.consent_directive) + (SELECT count(*) FROM {schema}.seal) AS n"
        ))
        .await;
    assert_eq!(rows, 0);

    // A patient registered a moment ago whose event has not arrived: retry, not refusal.
    let newborn = uuid::Uuid::now_v7().to_string();
    let r = app
        .req(Method::POST, "/break-glass", &ed)
        .json(&glass(&newborn))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "patient.not-yet-known");

    // The MPI's event arrives through the broker: the same request now succeeds.
    let registered = mpi::PatientRegistered {
        patient_id: newborn.clone(),
        tenant: app.tenant(0).into(),
        version: 1,
        demographics: None,
        registered_at: chrono::Utc::now().to_rfc3339(),
    };
    mpi_event(
        &app,
        &newborn,
        "uk.nhs.tessera.mpi.PatientRegistered.v1",
        registered.encode_to_vec(),
    )
    .await;
    let accepted = kit::wait_until(Duration::from_secs(20), || async {
        app.send(Method::POST, "/break-glass", &ed, Some(glass(&newborn)))
            .await
            .0
            == 201
    })
    .await;
    assert!(accepted, "the registered patient never became known");
    app.stop().await;
}

#[tokio::test]
async fn a_merged_away_record_is_refused_with_its_survivor_and_an_unmerge_restores_it() {
    let app = TestApp::spawn(1).await;
    let ed = app.token(0, "dr-e", "R8000", &[VIEW, AMEND, OVERRIDE], &[]);
    let (survivor, merged) = (app.known_patient(0).await, app.known_patient(0).await);
    let merge_id = uuid::Uuid::now_v7().to_string();
    let ev = mpi::PatientMerged {
        merge_id: merge_id.clone(),
        tenant: app.tenant(0).into(),
        survivor_patient_id: survivor.clone(),
        merged_patient_id: merged.clone(),
        ..Default::default()
    };
    mpi_event(
        &app,
        &merged,
        "uk.nhs.tessera.mpi.PatientMerged.v1",
        ev.encode_to_vec(),
    )
    .await;
    let refused = kit::wait_until(Duration::from_secs(20), || async {
        let (s, r) = app
            .send(Method::POST, "/break-glass", &ed, Some(glass(&merged)))
            .await;
        s == 409
            && r["code"] == "patient.merged"
            && r["detail"].as_str().is_some_and(|d| d.contains(&survivor))
    })
    .await;
    assert!(refused, "a merged-away record was still accepted");
    let (s, _) = app
        .send(Method::POST, "/break-glass", &ed, Some(glass(&survivor)))
        .await;
    assert_eq!(s, 201);
    let undo = mpi::PatientUnmerged {
        merge_id,
        tenant: app.tenant(0).into(),
        survivor_patient_id: survivor.clone(),
        merged_patient_id: merged.clone(),
        ..Default::default()
    };
    mpi_event(
        &app,
        &merged,
        "uk.nhs.tessera.mpi.PatientUnmerged.v1",
        undo.encode_to_vec(),
    )
    .await;
    let restored = kit::wait_until(Duration::from_secs(20), || async {
        app.send(Method::POST, "/break-glass", &ed, Some(glass(&merged)))
            .await
            .0
            == 201
    })
    .await;
    assert!(restored, "an unmerged record stayed refused");
    app.stop().await;
}
