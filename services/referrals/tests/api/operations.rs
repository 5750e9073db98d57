use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn health_metrics_and_the_openapi_document() {
    let app = TestApp::spawn(1).await;
    let c = &app.client;
    assert_eq!(
        c.get(format!("{}/livez", app.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let ready: Value = c
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true);
    let t = app.team_member(0, "u1", "GSURG");
    app.refer(0, &t, gp_referral(&patient(), "GSURG", "100", 1))
        .await;
    let m = c
        .get(format!("{}/metrics", app.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("http_requests_total"), "{m}");
    let doc: Value = c
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"].as_str().map(|s| &s[..2]), Some("3."));
    for path in [
        "/referrals",
        "/referrals/{id}",
        "/referrals/{id}/transitions",
        "/pathways",
        "/pathways/{id}",
        "/pathways/{id}/clock-events",
        "/waiting-list",
        "/waiting-list/standard",
        "/waiting-list/forecast",
        "/merge-reviews",
        "/fhir/ServiceRequest",
        "/fhir/ServiceRequest/{id}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    // The served document is the one the app's mounted routes produce, each with its row of
    // the operation table, and every operation it lists reaches a handler.
    let ops = tessera_referrals::api::operations(&tessera_referrals::Config::default());
    let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let unserved = tessera_testkit::contract::probe_documented_routes(c, &app.base, &doc).await;
    assert!(unserved.is_empty(), "{unserved:#?}");
    // Unauthenticated: 401 problem, audited unattributed.
    let r = c
        .get(format!("{}/waiting-list", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
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
    let t = app.team_member(0, "u1", "GSURG");
    let failures =
        tessera_testkit::bad_text::probe_every_operation(&app.client, &app.base, &t, &doc).await;
    assert!(failures.is_empty(), "{failures:#?}");
    // A transition whose reason holds a NUL: refused, and the referral unchanged.
    let r = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 1))
        .await;
    let id = r["id"].as_str().unwrap();
    let (s, v) = app
        .move_to(
            &t,
            id,
            serde_json::json!({ "to": "REJECTED", "reason": "not\u{0}ours" }),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("input.invalid-text")));
    let (_, now) = app.get(&format!("/referrals/{id}"), &t).await;
    assert_eq!(now["version"], r["version"]);
    assert_eq!(now["state"], "AWAITING_TRIAGE");
    app.stop().await;
}
