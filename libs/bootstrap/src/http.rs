//! HTTP plumbing shared by every service: the operational routes and the request middleware
//! that opens a span per request (with its trace id), joins the caller's trace, and counts the
//! request by route pattern.
use crate::{Metrics, Readiness, TraceContext};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    web, Error, HttpMessage, HttpResponse,
};
use std::time::Instant;
use tracing::Instrument;

pub use crate::trace::TRACEPARENT;

/// Request headers as OpenTelemetry's propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The management port's routes: `/livez`, `/readyz` in full (per-tenant states, errors) and
/// `/metrics` (labelled by tenant). The management port is reached only from inside the
/// cluster (the kubelet, the monitoring namespace), never through the API's ingress.
pub fn management_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/livez", web::get().to(livez))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "alive" }))
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let report = readiness.report().await;
    if report.ready {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

/// `/readyz` for the public port (served by the edge): each check's name and whether it
/// passed, with no tenant, host or error text — anyone who can reach the API can read it.
pub async fn readyz_summary(readiness: web::Data<Readiness>) -> HttpResponse {
    let report = readiness.report().await.summary();
    if report.ready {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// Middleware (use with `actix_web::middleware::from_fn`): trace context in and out, one span
/// per request, metrics by route pattern.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let caller = TraceContext::extract(&Headers(req.headers()));
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!("http.request", trace_id = tracing::field::Empty, %method, %route, status = tracing::field::Empty);
    // The request's context is its span's own: what its events and audit record carry, so
    // their consumers' spans are this span's children (ADR 22).
    let ctx = TraceContext::open(&span, caller.as_ref());
    span.record("trace_id", ctx.trace_id());
    req.extensions_mut().insert(ctx.clone());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    span.record("status", status);
    if let Some(m) = metrics {
        m.http_requests
            .with_label_values(&[method.as_str(), route.as_str(), &status.to_string()])
            .inc();
        m.http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    let mut res = result?;
    let mut out = std::collections::HashMap::new();
    ctx.inject(&mut out);
    for (k, v) in out {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            res.headers_mut().insert(k, v);
        }
    }
    Ok(res)
}
