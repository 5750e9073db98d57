//! Sends text no route may accept to every operation a service's OpenAPI document lists, and
//! reports each answer that is not the edge's 400 `input.invalid-text`: a NUL byte in the path,
//! in a query parameter and in a JSON body, and a JSON string one character over the limit.
use serde_json::Value;

/// One character more than the edge accepts in a JSON string (`tessera_edge::input`).
pub const OVER_LONG: usize = 4_001;

/// Every (method, path) pair in an OpenAPI document.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = vec![];
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    ops.push((method.to_string(), path.clone()));
                }
            }
        }
    }
    ops
}

pub(crate) fn fill(path: &str, with: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str(with);
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The failures (empty when every operation refused every probe as it should).
pub async fn probe_every_operation(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    doc: &Value,
) -> Vec<String> {
    let id = "0191b2a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";
    let mut failures = vec![];
    for (method, path) in operations(doc) {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut probes: Vec<(&str, reqwest::RequestBuilder)> = vec![(
            "query",
            client.request(m.clone(), format!("{base}{}?q=a%00b", fill(&path, id))),
        )];
        if path.contains('{') {
            probes.push((
                "path",
                client.request(m.clone(), format!("{base}{}", fill(&path, "a%00b"))),
            ));
        }
        if matches!(method.as_str(), "post" | "put" | "patch") {
            let url = format!("{base}{}", fill(&path, id));
            probes.push((
                "body NUL",
                client
                    .request(m.clone(), &url)
                    .json(&serde_json::json!({ "text": "a\u{0}b" })),
            ));
            probes.push((
                "body over-long",
                client
                    .request(m.clone(), &url)
                    .json(&serde_json::json!({ "text": "x".repeat(OVER_LONG) })),
            ));
        }
        for (what, probe) in probes {
            let answer = match probe.bearer_auth(token).send().await {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{method} {path} ({what}): {e}"));
                    continue;
                }
            };
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            // A problem's `code`, or (FHIR) the field code of the `OperationOutcome`'s issue.
            let code = body["code"]
                .as_str()
                .or_else(|| body["issue"][0]["details"]["coding"][0]["code"].as_str());
            let refused = matches!(
                code,
                Some("input.invalid-text" | "control-character" | "too-long")
            );
            if status != 400 || !refused {
                failures.push(format!("{method} {path} ({what}): {status} {body}"));
            }
        }
    }
    failures
}
