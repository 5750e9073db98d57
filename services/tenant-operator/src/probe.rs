//! Asking each service how far it has come with a trust: `GET /tenants/{ods}` on its
//! management port (the registry's `TenantReport`). Through the service's Kubernetes Service,
//! so one replica answers; every replica provisions from the same topic and schema, and a
//! replica not yet ready is out of the Service's endpoints.
use crate::crd::{ServiceName, ServiceStatus};
use serde::Deserialize;
use std::time::Duration;

/// Where one service's management port is reached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ServiceEndpoint {
    pub name: String,
    /// e.g. `http://tessera-mpi-management.tessera.svc:9080`
    pub management_url: String,
}

#[derive(Deserialize)]
struct Report {
    state: String,
    migrated: bool,
    topics: bool,
    #[serde(default)]
    error: Option<String>,
}

/// How long one service may take to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

/// The service's report of `ods`, or `unreachable` with why.
pub async fn probe(http: &reqwest::Client, service: &ServiceEndpoint, ods: &str) -> ServiceStatus {
    let url = format!(
        "{}/tenants/{ods}",
        service.management_url.trim_end_matches('/')
    );
    let unreachable = |message: String| ServiceStatus {
        name: service.name.clone(),
        state: "unreachable".into(),
        migrated: false,
        topics_created: false,
        ready: false,
        message: Some(message),
    };
    let answer = match http.get(&url).timeout(ANSWER_WITHIN).send().await {
        Ok(a) => a,
        Err(e) => return unreachable(format!("{url}: {e}")),
    };
    let status = answer.status();
    if !(status.is_success() || status == reqwest::StatusCode::NOT_FOUND) {
        return unreachable(format!("{url} answered {status}"));
    }
    match answer.json::<Report>().await {
        Ok(r) => ServiceStatus {
            name: service.name.clone(),
            ready: r.state == "ready" && r.migrated && r.topics,
            state: r.state,
            migrated: r.migrated,
            topics_created: r.topics,
            message: r.error,
        },
        Err(e) => unreachable(format!("{url}: unreadable answer: {e}")),
    }
}

/// A service the trust names but this operator has no endpoint for: never ready.
pub fn not_deployed(name: ServiceName) -> ServiceStatus {
    ServiceStatus {
        name: name.as_str().into(),
        state: "not-deployed".into(),
        migrated: false,
        topics_created: false,
        ready: false,
        message: Some("the operator has no endpoint for this service".into()),
    }
}
