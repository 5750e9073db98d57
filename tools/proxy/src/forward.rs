//! Serving one route: each request to the next ready instance, sent again elsewhere when that
//! is safe (see the crate's documentation).
use crate::{Pool, Route};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a request may wait for a ready instance before it is refused (503).
const WAIT_FOR_READY: Duration = Duration::from_secs(10);
/// How long an instance may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// Most tries of one request.
const TRIES: usize = 5;

/// Connection-scoped headers (RFC 9110 §7.6.1): never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What one route did: requests forwarded, requests sent again to another instance, and
/// requests the proxy itself answered with an error (no instance could).
#[derive(Default, Debug)]
pub struct Stats {
    pub requests: AtomicU64,
    pub resent: AtomicU64,
    pub refused: AtomicU64,
}

impl Stats {
    pub fn to_json(&self, route: &str) -> serde_json::Value {
        serde_json::json!({
            "route": route,
            "requests": self.requests.load(Ordering::Relaxed),
            "resent": self.resent.load(Ordering::Relaxed),
            "refused": self.refused.load(Ordering::Relaxed),
        })
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

struct Ctx {
    pool: Arc<Pool>,
    client: Client<HttpConnector, Full<Bytes>>,
    stats: Arc<Stats>,
}

/// Serves `route` until the process ends, counting into `stats`.
pub async fn serve(route: Route, stats: Arc<Stats>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(route.listen).await?;
    let pool = Pool::new(route.backends);
    tokio::spawn(pool.clone().watch());
    let ctx = Arc::new(Ctx {
        pool,
        client: Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(20))
            .build_http(),
        stats,
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, ctx.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Result<Response<Body>, Infallible> {
    ctx.stats.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(refuse(
                &ctx,
                StatusCode::BAD_REQUEST,
                "request body unreadable",
            ))
        }
    };
    let resend_safe = matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    ) || parts.headers.contains_key("idempotency-key");
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let started = Instant::now();
    let mut failed = None;
    for _ in 0..TRIES {
        let Some(i) = next_ready(&ctx.pool, failed, started).await else {
            return Ok(refuse(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "no instance is ready",
            ));
        };
        let mut out = Request::builder()
            .method(parts.method.clone())
            .uri(format!("http://{}{path}", ctx.pool.backend(i).api));
        if let Some(h) = out.headers_mut() {
            copy_end_to_end(&parts.headers, h);
        }
        let Ok(out) = out.body(Full::new(body.clone())) else {
            return Ok(refuse(
                &ctx,
                StatusCode::BAD_REQUEST,
                "request not forwardable",
            ));
        };
        match tokio::time::timeout(ANSWER_TIMEOUT, ctx.client.request(out)).await {
            Ok(Ok(resp)) => {
                let (mut head, body) = resp.into_parts();
                let mut headers = HeaderMap::new();
                copy_end_to_end(&head.headers, &mut headers);
                head.headers = headers;
                return Ok(Response::from_parts(head, body.boxed()));
            }
            Ok(Err(e)) if e.is_connect() || resend_safe => {
                // Not sent (nothing can have happened), or safe to repeat: try another.
                ctx.pool.suspect(i);
                ctx.stats.resent.fetch_add(1, Ordering::Relaxed);
                failed = Some(i);
            }
            Ok(Err(_)) => {
                return Ok(refuse(
                    &ctx,
                    StatusCode::BAD_GATEWAY,
                    "the instance closed the connection; the request may have been applied",
                ));
            }
            Err(_) => {
                return Ok(refuse(
                    &ctx,
                    StatusCode::GATEWAY_TIMEOUT,
                    "the instance did not answer in time",
                ))
            }
        }
    }
    Ok(refuse(
        &ctx,
        StatusCode::BAD_GATEWAY,
        "no instance answered",
    ))
}

/// The next ready instance, waiting (up to `WAIT_FOR_READY` from `started`) while none is.
async fn next_ready(pool: &Pool, failed: Option<usize>, started: Instant) -> Option<usize> {
    loop {
        if let Some(i) = pool.pick(failed) {
            return Some(i);
        }
        if started.elapsed() > WAIT_FOR_READY {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn copy_end_to_end(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// An answer from the proxy itself, as an RFC 9457 problem.
fn refuse(ctx: &Ctx, status: StatusCode, detail: &str) -> Response<Body> {
    ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
    let problem = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail,
        "code": "proxy.unavailable",
    });
    let mut resp = Response::new(
        Full::new(Bytes::from(problem.to_string()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert("retry-after", HeaderValue::from_static("1"));
    }
    resp
}
