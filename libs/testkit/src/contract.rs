//! The API document against the running app: every operation a service's served OpenAPI
//! document lists must reach a handler. Requested without a token, a gated operation answers
//! 401 (or 400 for a body it cannot read) and a public one 200; the app's default answer for
//! a route it does not serve — 404 "no such resource or operation" — means the document
//! lists a route the app does not mount.
use crate::bad_text::{fill, operations};
use serde_json::Value;

/// The failures (empty when every documented operation is served).
pub async fn probe_documented_routes(
    client: &reqwest::Client,
    base: &str,
    doc: &Value,
) -> Vec<String> {
    let id = "0191b2a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";
    let mut failures = vec![];
    for (method, path) in operations(doc) {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let gated = doc["paths"][&path][&method].get("security").is_some();
        let mut req = client.request(m.clone(), format!("{base}{}", fill(&path, id)));
        if matches!(method.as_str(), "post" | "put" | "patch") {
            req = req.json(&serde_json::json!({}));
        }
        let answer = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{method} {path}: {e}"));
                continue;
            }
        };
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        let text = body.to_string();
        let unserved = text.contains("no such resource or operation");
        let expected = if gated {
            [401, 400].contains(&status)
        } else {
            status == 200
        };
        if unserved || !expected {
            failures.push(format!("{method} {path} (gated: {gated}): {status} {text}"));
        }
    }
    failures
}
