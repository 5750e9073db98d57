//! A mocked Kubernetes API server for the reconcile tests (no API server can run here): the
//! operator's `kube::Client` talks to a `tower_test` handle, and [`ApiServer::reconcile`]
//! answers each request as the API server would for one `Trust` — a JSON patch of its
//! finalizers, a server-side apply of its status — while recording every request, so a test
//! asserts the exact requests the operator made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use http::{Request, Response};
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{json, Value};
use std::sync::Arc;
use tessera_tenant_operator::{reconcile, Context, OperatorError, Trust};
use tower_test::mock::{self, Handle};

pub struct ApiServer {
    handle: Handle<Request<Body>, Response<Body>>,
}

/// One request the operator made: method, path and query, JSON body.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub body: Value,
}

impl ApiServer {
    /// A client wired to a fresh mocked API server.
    pub fn pair() -> (kube::Client, Self) {
        let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
        (kube::Client::new(service, "default"), Self { handle })
    }

    /// Runs one reconcile of `trust`, answering its requests; returns its result, the
    /// requests in order, and the `Trust` as the API server holds it afterwards.
    pub async fn reconcile(
        &mut self,
        ctx: &Arc<Context>,
        trust: &Trust,
    ) -> (Result<Action, OperatorError>, Vec<Seen>, Trust) {
        let mut held = trust.clone();
        let mut seen = Vec::new();
        let run = tokio::spawn(reconcile(Arc::new(trust.clone()), ctx.clone()));
        tokio::pin!(run);
        loop {
            tokio::select! {
                done = &mut run => return (done.unwrap(), seen, held),
                next = self.handle.next_request() => {
                    let Some((request, send)) = next else { continue };
                    let method = request.method().to_string();
                    let uri = request.uri().to_string();
                    let bytes = request.into_body().collect_bytes().await.unwrap();
                    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    apply(&mut held, &uri, &body);
                    seen.push(Seen { method, uri, body });
                    let answer = serde_json::to_vec(&held).unwrap();
                    send.send_response(Response::builder().body(Body::from(answer)).unwrap());
                }
            }
        }
    }
}

/// What the API server does with a request: a status apply replaces the status; a JSON
/// patch of `/metadata/finalizers` adds or removes finalizers.
fn apply(trust: &mut Trust, uri: &str, body: &Value) {
    if uri.contains("/status?") {
        trust.status = Some(serde_json::from_value(body["status"].clone()).unwrap());
        return;
    }
    for op in body.as_array().into_iter().flatten() {
        match (op["op"].as_str(), op["path"].as_str()) {
            (Some("add"), Some("/metadata/finalizers")) => {
                trust.metadata.finalizers = serde_json::from_value(op["value"].clone()).unwrap();
            }
            (Some("remove"), Some(path)) if path.starts_with("/metadata/finalizers/") => {
                let i: usize = path.rsplit('/').next().unwrap().parse().unwrap();
                if let Some(f) = trust.metadata.finalizers.as_mut() {
                    f.remove(i);
                }
            }
            _ => {}
        }
    }
}

/// A `Trust` named after its ODS code, generation 1, as `kubectl apply` would create it.
pub fn trust(ods: &str) -> Trust {
    let mut t: Trust = serde_json::from_value(json!({
        "apiVersion": "tessera.nhs.uk/v1alpha1",
        "kind": "Trust",
        "metadata": { "name": ods.to_lowercase(), "generation": 1, "uid": uuid::Uuid::new_v4().to_string() },
        "spec": { "odsCode": ods, "name": format!("Test trust {ods}") }
    }))
    .unwrap();
    t.metadata.resource_version = Some("1".into());
    t
}

/// The condition `type_` of `trust`'s status: (status, reason, message).
pub fn condition(trust: &Trust, type_: &str) -> Option<(String, String, String)> {
    trust
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}
