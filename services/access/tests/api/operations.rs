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
        .get(format!("{}/metrics", app.base))
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
    app.stop().await;
}
