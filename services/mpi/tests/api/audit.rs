//! Every read and write of patient data leaves exactly one audit record; so does every
//! refusal. Each request carries its own trace id, so its records can be counted.
use crate::helpers::*;
use prost::Message;
use serde_json::json;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn every_patient_data_request_leaves_exactly_one_audit_record() {
    let app = TestApp::spawn(1).await;
    let schema = app.schema(0);
    let clerk = app.clerk(0);
    let viewer = app.token(app.tenant(0), &[VIEW]);
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap().to_string();
    let missing = uuid::Uuid::now_v7().to_string();

    struct Case {
        method: &'static str,
        path: String,
        token: String,
        body: Option<serde_json::Value>,
        action: &'static str,
        outcome: &'static str,
        status: i32,
    }
    let cases = vec![
        Case {
            method: "GET",
            path: format!("/patients/{id}"),
            token: viewer.clone(),
            body: None,
            action: "patient.read",
            outcome: "permit",
            status: 200,
        },
        Case {
            method: "GET",
            path: format!("/patients/{missing}"),
            token: viewer.clone(),
            body: None,
            action: "patient.read",
            outcome: "deny",
            status: 404,
        },
        Case {
            method: "GET",
            path: "/patients?nhs_number=9434765919".into(),
            token: viewer.clone(),
            body: None,
            action: "patient.search",
            outcome: "permit",
            status: 200,
        },
        Case {
            method: "GET",
            path: "/patients?nhs_number=123".into(),
            token: viewer.clone(),
            body: None,
            action: "patient.search",
            outcome: "deny",
            status: 422,
        },
        Case {
            method: "GET",
            path: format!("/fhir/Patient/{id}"),
            token: viewer.clone(),
            body: None,
            action: "patient.read",
            outcome: "permit",
            status: 200,
        },
        Case {
            method: "GET",
            path: "/fhir/Patient?family=Testpatient".into(),
            token: viewer.clone(),
            body: None,
            action: "patient.search",
            outcome: "permit",
            status: 200,
        },
        Case {
            method: "GET",
            path: format!("/patients/{id}/history"),
            token: viewer.clone(),
            body: None,
            action: "patient.history",
            outcome: "permit",
            status: 200,
        },
        Case {
            method: "POST",
            path: "/patients".into(),
            token: clerk.clone(),
            body: Some(jane(Some("9990000018"))),
            action: "patient.register",
            outcome: "permit",
            status: 201,
        },
        Case {
            method: "POST",
            path: "/patients".into(),
            token: clerk.clone(),
            body: Some(jane(Some("9434765918"))),
            action: "patient.register",
            outcome: "deny",
            status: 422,
        },
        Case {
            method: "PUT",
            path: format!("/patients/{id}"),
            token: clerk.clone(),
            body: Some(jane(Some("9434765919"))),
            action: "patient.update",
            outcome: "permit",
            status: 200,
        },
        // Refused: the role lacks the activity.
        Case {
            method: "POST",
            path: "/patients".into(),
            token: viewer.clone(),
            body: Some(jane(None)),
            action: "patient.register",
            outcome: "deny",
            status: 403,
        },
    ];
    for c in &cases {
        let (tp, trace_id) = traceparent();
        let url = format!("{}{}", app.base, c.path);
        let req = match c.method {
            "GET" => app.client.get(url),
            "POST" => app.client.post(url),
            _ => app.client.put(url),
        };
        let req = req.bearer_auth(&c.token).header("traceparent", tp);
        let req = match &c.body {
            Some(b) => req.json(b),
            None => req,
        };
        let r = req.send().await.unwrap();
        assert_eq!(
            i32::from(r.status().as_u16()),
            c.status,
            "{} {}",
            c.method,
            c.path
        );
        let records = app.audit_for_trace(&schema, &trace_id).await;
        assert_eq!(records.len(), 1, "{} {}: {records:?}", c.method, c.path);
        let (action, outcome, _reason, status) = &records[0];
        assert_eq!(
            (action.as_str(), outcome.as_str(), *status),
            (c.action, c.outcome, c.status),
            "{} {}",
            c.method,
            c.path
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_request_with_a_bad_token_is_audited_in_the_platform_schema() {
    let app = TestApp::spawn(1).await;
    let (tp, trace_id) = traceparent();
    let r = app
        .client
        .get(format!("{}/patients/{}", app.base, uuid::Uuid::now_v7()))
        .bearer_auth("not-a-jwt")
        .header("traceparent", tp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let records = app.audit_for_trace("platform", &trace_id).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1, "deny");
    assert_eq!(records[0].2, "auth.malformed");
    app.stop().await;
}

#[tokio::test]
async fn audit_records_are_published_to_the_tenant_audit_topic() {
    let app = TestApp::spawn(1).await;
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap();
    app.get(&format!("/patients/{id}"), &app.clerk(0))
        .send()
        .await
        .unwrap();
    let topic = format!("tessera.{}.audit.events", app.tenant(0).to_lowercase());
    let msgs = kit::read_events(&app.kafka, &topic, 2, Duration::from_secs(15)).await;
    assert_eq!(msgs.len(), 2);
    let records: Vec<_> = msgs
        .iter()
        .map(|m| tessera_proto::audit::v1::AuditRecord::decode(m.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(records[0].action, "patient.register");
    assert_eq!(records[1].action, "patient.read");
    assert!(records
        .iter()
        .all(|r| r.patient_id == id && r.tenant == app.tenant(0) && r.user_id == "U-TEST-1"));
    assert_eq!(app.audit_count(0).await, 2);
    let _ = json!(null);
    app.stop().await;
}
