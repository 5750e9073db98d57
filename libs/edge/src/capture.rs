//! A conformance switch: when `TESSERA_FHIR_CAPTURE` names a directory, every FHIR JSON
//! response the service gives (errors included) is also written there, one file each, and
//! every problem (`application/problem+json`) into its `problems/` subdirectory.
//! `cargo xtask test` sets it for the whole suite, then has an independent FHIR parser (the
//! PyPI package `fhir.resources`, R4B models) read every FHIR file (ADR 23), and checks every
//! error code answered against `docs/contracts/api-errors.md`. Unset — always, in
//! production — the middleware passes responses through untouched.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::Error;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| std::env::var_os("TESSERA_FHIR_CAPTURE").map(PathBuf::from))
        .as_ref()
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn fhir_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(dir) = dir() else {
        return Ok(res);
    };
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let dir = if content_type.starts_with("application/fhir+json") {
        dir.clone()
    } else if content_type.starts_with("application/problem+json") {
        dir.join("problems")
    } else {
        return Ok(res);
    };
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(())))),
    };
    let name = format!(
        "{}-{}.json",
        res.status().as_u16(),
        uuid::Uuid::now_v7().simple()
    );
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(name), &bytes))
    {
        tracing::warn!(error = %e, "FHIR capture could not write");
    }
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
}
