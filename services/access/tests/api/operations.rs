use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn operational_endpoints_answer_and_every_route_is_in_the_openapi_document() {
    let app = TestApp::spawn(1).await;
    for path in ["/livez", "/readyz"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let (s, _) = app
        .send(Method::GET, "/teams", &app.clinician(0, "dr-a"), None)
        .await;
    assert_eq!(s, 200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("tessera_http_requests_total"), "{metrics}");
    assert!(metrics.contains("service=\"access\""));
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/teams", "get"),
        ("/teams/{code}", "put"),
        ("/teams/{code}/members", "put"),
        ("/teams/{code}/caseload", "post"),
        ("/relationships", "post"),
        ("/relationships", "get"),
        ("/relationships/{id}/end", "post"),
        ("/relationship-rules", "get"),
        ("/relationship-rules/{origin}", "put"),
        ("/break-glass", "post"),
        ("/alerts", "get"),
        ("/alerts/{id}/acknowledge", "post"),
        ("/alerts/{id}/notes", "post"),
        ("/seals", "get"),
        ("/seals/{patient}/{item}", "put"),
        ("/seals/{patient}/{item}", "delete"),
        ("/consent/{patient}", "get"),
        ("/consent/{patient}/sharing", "put"),
        ("/consent/{patient}/nominations", "post"),
        ("/consent/{patient}/directives/{id}/withdraw", "post"),
        ("/audit", "get"),
        ("/audit/verify", "get"),
        ("/patients/{patient}/access-report", "get"),
        ("/fhir/AuditEvent", "get"),
    ] {
        assert!(
            doc["paths"][path].get(method).is_some(),
            "{method} {path} is not in openapi.json"
        );
    }
    // The served document is the one the app's mounted routes produce, each with its row of
    // the operation table, and every operation it lists reaches a handler.
    let ops = tessera_access_service::api::operations(&tessera_access_service::Config::default());
    let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let unserved =
        tessera_testkit::contract::probe_documented_routes(&app.client, &app.base, &doc).await;
    assert!(unserved.is_empty(), "{unserved:#?}");
    assert_eq!(
        doc["paths"]["/break-glass"]["post"]["x-activities"],
        serde_json::json!([tessera_access::decision::OVERRIDE_ACTIVITY])
    );
    app.stop().await;
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
    let token = app.token(0, "dr-x", PRIVACY, &[VIEW, AMEND, OVERRIDE], &[]);
    let failures =
        tessera_testkit::bad_text::probe_every_operation(&app.client, &app.base, &token, &doc)
            .await;
    assert!(failures.is_empty(), "{failures:#?}");
    // A well-formed request with a NUL in its free text changes nothing.
    let body = serde_json::json!({ "patient_id": patient(), "reason_code": "04",
        "justification": "unconscious\u{0} in ED", "duration_seconds": 600 });
    let (s, r) = app
        .send(Method::POST, "/break-glass", &token, Some(body))
        .await;
    assert_eq!((s, r["code"].as_str()), (400, Some("input.invalid-text")));
    assert_eq!(r["errors"][0]["field"], "body/justification");
    let schema = app.schema(0);
    let rows = app
        .scalar(&format!(
            "SELECT (SELECT count(*) FROM {schema}.break_glass) + (SELECT count(*) FROM {schema}.alert) AS n"
        ))
        .await;
    assert_eq!(rows, 0);
    app.stop().await;
}
