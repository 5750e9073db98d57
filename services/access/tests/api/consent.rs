use crate::helpers::*;
use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tessera_access::projection::types;
use tessera_proto::access::v1 as pb;
use tessera_testkit as kit;

#[tokio::test]
async fn a_patients_nomination_is_a_directive_applied_as_a_seal_and_withdrawn_with_it() {
    let app = TestApp::spawn(1).await;
    let m = app.manager(0);
    let p = app.known_patient(0).await;
    let (s, r) = app
        .send(
            Method::POST,
            &format!("/consent/{p}/nominations"),
            &m,
            Some(json!({
                "item": "contact", "level": "locked", "users": ["dr-x"], "teams": ["sexual-health"]
            })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let directive = r["directive_id"].as_str().unwrap().to_string();
    assert_eq!(r["seal"]["level"], "locked");
    let (_, seals) = app
        .send(Method::GET, &format!("/seals?patient_id={p}"), &m, None)
        .await;
    assert_eq!(seals["seals"][0]["directive_id"], directive.as_str());
    let (s, c) = app
        .send(
            Method::PUT,
            &format!("/consent/{p}/sharing"),
            &m,
            Some(json!({ "sharing": "permit" })),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let (_, c) = app
        .send(Method::GET, &format!("/consent/{p}"), &m, None)
        .await;
    assert_eq!(c["sharing"], "permit");
    assert_eq!(c["directives"].as_array().unwrap().len(), 2);
    // Withdrawn: the seal goes too.
    let (s, _) = app
        .send(
            Method::POST,
            &format!("/consent/{p}/directives/{directive}/withdraw"),
            &m,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (_, seals) = app
        .send(Method::GET, &format!("/seals?patient_id={p}"), &m, None)
        .await;
    assert_eq!(seals["seals"].as_array().unwrap().len(), 0);
    // Published in order on the consent topic.
    let topic = format!("tessera.{}.access.consent", app.tenant(0).to_lowercase());
    let got = kit::read_topic(&app.kafka, &topic, 3, Duration::from_secs(10)).await;
    let kinds: Vec<&str> = got
        .iter()
        .filter_map(|m| m.headers.get("ce_type").map(String::as_str))
        .filter(|t| *t != types::HEARTBEAT)
        .collect();
    assert_eq!(
        kinds,
        vec![
            types::SEAL_SET,
            types::SHARING_CONSENT_SET,
            types::SEAL_REMOVED
        ]
    );
    let set = got
        .iter()
        .find(|m| m.headers.get("ce_type").map(String::as_str) == Some(types::SEAL_SET))
        .unwrap();
    let set = pb::SealSet::decode(set.payload.as_slice()).unwrap();
    assert_eq!(set.level(), pb::SealLevel::SealedAndLocked);
    assert_eq!(set.teams, vec!["sexual-health".to_string()]);
    app.stop().await;
}

#[tokio::test]
async fn bad_seals_and_consent_are_refused() {
    let app = TestApp::spawn(1).await;
    let m = app.manager(0);
    let p = app.known_patient(0).await;
    let (s, r) = app
        .send(
            Method::PUT,
            &format!("/seals/{p}/contact"),
            &m,
            Some(json!({ "level": "sealed" })),
        )
        .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("users")),
        "{r}"
    );
    let (s, r) = app
        .send(
            Method::PUT,
            &format!("/seals/{p}/everything"),
            &m,
            Some(json!({ "level": "sealed", "users": ["a"] })),
        )
        .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("item")),
        "{r}"
    );
    let (s, _) = app
        .send(
            Method::PUT,
            &format!("/seals/{p}/contact"),
            &m,
            Some(json!({ "level": "glued", "users": ["a"] })),
        )
        .await;
    assert_eq!(s, 400);
    let (s, r) = app
        .send(
            Method::PUT,
            &format!("/consent/{p}/sharing"),
            &m,
            Some(json!({ "sharing": "maybe" })),
        )
        .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("sharing")),
        "{r}"
    );
    let (s, _) = app
        .send(Method::DELETE, &format!("/seals/{p}/contact"), &m, None)
        .await;
    assert_eq!(s, 404);
    // A viewer may not seal.
    let (s, r) = app
        .send(
            Method::PUT,
            &format!("/seals/{p}/contact"),
            &app.clinician(0, "dr-a"),
            Some(json!({ "level": "sealed", "users": ["a"] })),
        )
        .await;
    assert_eq!((s, r["code"].as_str()), (403, Some("access.activity")));
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.seal"))
            .await,
        0
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.consent_directive"
        ))
        .await,
        0
    );
    app.stop().await;
}
