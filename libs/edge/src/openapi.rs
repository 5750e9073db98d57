//! A service's OpenAPI 3.1 document, generated from the code (ADR 26). Each handler carries
//! `#[utoipa::path]` and is mounted with `service(...)` through utoipa-actix-web, which
//! collects the operation as it mounts the route: the document lists exactly the routes the
//! running app serves. [`finish`] then adds what every operation shares — the bearer scheme,
//! the problem responses the edge can give on any route, and the operation's row of the
//! service's table (`x-action`, `x-activities`, `x-job-roles`, `security`).
use crate::operations::{Need, Operations};
use crate::problem::{CodeableConcept, Coding, FieldError, Issue, OperationOutcome, Problem};
use actix_web::{get, http::Method, web, HttpResponse};
use serde_json::{json, Map, Value};
use tessera_bootstrap::Readiness;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi};

/// What the document says about the service as a whole.
#[derive(Debug, Clone, Copy)]
pub struct ApiInfo {
    pub title: &'static str,
    pub description: &'static str,
}

/// The finished document, served at `/openapi.json`.
pub struct ServedDocument(pub String);

/// Statuses the edge itself may answer on any gated route: bad text (400), no or bad token
/// (401), role or tenant refused (403), a trust's budget spent (429), a trust or patient not
/// yet known (503, with `Retry-After`), and the service's validation (422).
const GATED: &[u16] = &[400, 401, 403, 422, 429, 503];

/// The document `routes` produce, exactly as the service serves it: for tests and tools.
pub fn document(
    info: &ApiInfo,
    ops: &Operations,
    routes: fn(&mut utoipa_actix_web::service_config::ServiceConfig),
) -> Value {
    use utoipa_actix_web::AppExt;
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .configure(operational)
        .configure(routes)
        .split_for_parts();
    finish(doc, info, ops)
}

/// Every disagreement between a document and the table: an operation the table has no row
/// for (the gate would refuse it), and a row for an operation the app does not serve.
pub fn mismatches(doc: &Value, ops: &Operations) -> Vec<String> {
    let mut served = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in item.as_object().map(|m| m.keys()).into_iter().flatten() {
                served.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (method, path) in &served {
        let known = Method::from_bytes(method.as_bytes())
            .ok()
            .and_then(|m| ops.find(&m, path));
        if known.is_none() {
            out.push(format!(
                "{method} {path} is served but has no row in the operation table"
            ));
        }
    }
    for row in ops.rows() {
        if !served.contains(&(row.method.to_string(), row.path.to_string())) {
            out.push(format!(
                "{} {} has a row but is not served",
                row.method, row.path
            ));
        }
    }
    out
}

/// Completes the collected document: info, components, and each operation's table row.
pub fn finish(mut doc: OpenApi, info: &ApiInfo, ops: &Operations) -> Value {
    let shared = ComponentsBuilder::new()
        .schema_from::<Problem>()
        .schema_from::<FieldError>()
        .schema_from::<OperationOutcome>()
        .schema_from::<Issue>()
        .schema_from::<CodeableConcept>()
        .schema_from::<Coding>()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(shared.schemas);
    components.security_schemes.extend(shared.security_schemes);
    let mut v = serde_json::to_value(&doc).unwrap_or(Value::Null);
    v["openapi"] = json!("3.1.0");
    v["info"] = json!({
        "title": info.title,
        "version": env!("CARGO_PKG_VERSION"),
        "description": info.description,
    });
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) {
                    annotate(op, path, &m, ops);
                }
            }
        }
    }
    v
}

fn annotate(op: &mut Value, path: &str, method: &Method, ops: &Operations) {
    let Some(o) = op.as_object_mut() else {
        return;
    };
    // Handlers in different modules share names (`search`): the tag makes each id unique.
    let tag = o.get("tags").and_then(|t| t[0].as_str()).map(str::to_owned);
    if let (Some(tag), Some(id)) = (tag, o.get("operationId").and_then(Value::as_str)) {
        let id = format!("{tag}.{id}");
        o.insert("operationId".into(), json!(id));
    }
    let row = ops.find(method, path);
    let mut statuses: Vec<u16> = vec![400];
    match row.map(|r| &r.need) {
        Some(Need::Public) => {}
        need => {
            if let Some(r) = row {
                o.insert("x-action".into(), json!(r.action));
            }
            match need {
                Some(Need::Activity(code)) => {
                    o.insert("x-activities".into(), json!([code]));
                }
                Some(Need::JobRole(roles)) => {
                    o.insert("x-job-roles".into(), json!(roles));
                }
                _ => {}
            }
            o.insert("security".into(), json!([{ "bearer": [] }]));
            statuses.extend_from_slice(GATED);
            // A write can find the record in a state that forbids it (already acknowledged,
            // already merged, a stale version).
            if [Method::POST, Method::PUT, Method::DELETE, Method::PATCH].contains(method) {
                statuses.push(409);
            }
        }
    }
    if path.contains('{') {
        statuses.push(404);
    }
    let fhir = path.starts_with("/fhir");
    if fhir {
        statuses.extend_from_slice(&[404, 406]);
    }
    let responses = o
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(responses) = responses.as_object_mut() {
        for s in statuses {
            responses
                .entry(s.to_string())
                .or_insert_with(|| problem_response(fhir));
        }
    }
}

fn problem_response(fhir: bool) -> Value {
    if fhir {
        json!({
            "description": "An error, as a FHIR OperationOutcome",
            "content": { "application/fhir+json": {
                "schema": { "$ref": "#/components/schemas/OperationOutcome" } } }
        })
    } else {
        json!({
            "description": "An error, as RFC 9457 problem details (docs/contracts/api-errors.md)",
            "content": { "application/problem+json": {
                "schema": { "$ref": "#/components/schemas/Problem" } } }
        })
    }
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(
    tag = "operational",
    responses((status = 200, description = "This document", body = serde_json::Value))
)]
#[get("/openapi.json")]
pub async fn serve_document(doc: web::Data<ServedDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Liveness: the process answers.
#[utoipa::path(
    tag = "operational",
    responses((status = 200, description = "Alive", body = serde_json::Value))
)]
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    tessera_bootstrap::http::livez().await
}

/// Readiness, summarised: each check's name and whether it passed; no tenant, host or error
/// text (the management port serves the detail).
#[utoipa::path(
    tag = "operational",
    responses(
        (status = 200, description = "Ready", body = serde_json::Value),
        (status = 503, description = "Not ready", body = serde_json::Value)
    )
)]
#[get("/readyz")]
pub async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    tessera_bootstrap::http::readyz_summary(readiness).await
}

/// The operational routes every service's API port serves, in its document.
pub fn operational(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(serve_document).service(livez).service(readyz);
}
