//! Sending a request as a well-behaved client does: again after `Retry-After` on a 503 that
//! carries one, within a budget; every write journaled with its answer.
use super::{journal, lock, ops, Shared};
use std::time::{Duration, Instant};

/// How long a client keeps retrying a 503 that says when to retry.
const RETRY_BUDGET: Duration = Duration::from_secs(30);

/// Sends `req`, and as a well-behaved client does, sends it again after `Retry-After` when
/// the answer is a 503 that carries one (a patient registered a moment ago and not yet known
/// to the service referring to it, ADR 21), for up to [`RETRY_BUDGET`]. Only a 503 still
/// answered after that counts as a server error.
pub(super) async fn send_as_a_client_would(
    shared: &Shared,
    req: &ops::Request,
) -> (Option<u16>, Option<serde_json::Value>) {
    let started = Instant::now();
    loop {
        let (status, body, retry_after) = send(shared, req).await;
        match retry_after {
            Some(secs) if status == Some(503) && started.elapsed() < RETRY_BUDGET => {
                tokio::time::sleep(Duration::from_secs(secs.clamp(1, 5))).await;
            }
            _ => {
                if let Some((kind, key)) = req.write.zip(req.key.clone()) {
                    let id = body
                        .as_ref()
                        .and_then(|b| b["id"].as_str().or_else(|| b["grant"]["id"].as_str()));
                    lock(&shared.journal).writes.push(journal::Write {
                        kind: kind.to_string(),
                        trust: req.trust.clone(),
                        key,
                        status,
                        id: id.map(str::to_string),
                    });
                }
                return (status, body);
            }
        }
    }
}

async fn send(
    shared: &Shared,
    req: &ops::Request,
) -> (Option<u16>, Option<serde_json::Value>, Option<u64>) {
    let Ok(base) = shared.platform.url(req.service) else {
        return (None, None, None);
    };
    let mut b = shared
        .client
        .request(req.method.clone(), format!("{base}{}", req.path))
        .bearer_auth(&req.token);
    if let Some(body) = &req.body {
        b = b.json(body);
    }
    if let Some(key) = &req.key {
        b = b.header("Idempotency-Key", key.as_str());
    }
    match b.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = if req.keep_body {
                r.json::<serde_json::Value>().await.ok()
            } else {
                let _ = r.bytes().await;
                None
            };
            lock(&shared.journal).answered(&req.trust, req.service, Some(status));
            (Some(status), body, retry_after)
        }
        Err(_) => {
            lock(&shared.journal).answered(&req.trust, req.service, None);
            (None, None, None)
        }
    }
}
