//! FHIR content negotiation and the answer for routes that do not exist, for every service:
//! under `/fhir`, an `Accept` (or `_format`) that asks for anything but JSON gets 406, and an
//! unknown route gets 404 — both as an `OperationOutcome`, never an empty body (ADR 23).
//! Elsewhere an unknown route gets a 404 problem.
use crate::problem::{ApiError, Flavour};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest};

/// Whether an `Accept` value admits FHIR JSON.
pub fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let media = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(
            media.as_str(),
            "" | "*/*" | "application/*" | "application/json" | "application/fhir+json" | "json"
        )
    })
}

/// Whether a `_format` value names JSON.
pub fn format_is_json(format: &str) -> bool {
    matches!(
        format.trim().to_ascii_lowercase().as_str(),
        "json" | "application/json" | "application/fhir+json"
    )
}

fn not_acceptable(detail: &str) -> Error {
    ApiError::new(crate::codes::FHIR_NOT_ACCEPTABLE, detail)
        .with_flavour(Flavour::Fhir)
        .into()
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn fhir_formats(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if req.path().starts_with("/fhir") {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !accepts_json(accept) {
            let e =
                not_acceptable("this server speaks FHIR JSON only: Accept application/fhir+json");
            return Ok(req.error_response(e).map_into_right_body());
        }
        let format = form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == "_format")
            .map(|(_, v)| v.into_owned());
        if format.is_some_and(|f| !format_is_json(&f)) {
            let e = not_acceptable("_format must be json (FHIR JSON only)");
            return Ok(req.error_response(e).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The default service: an unknown route.
pub async fn no_such_route(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let e = ApiError::new(
        crate::codes::NOT_FOUND,
        format!("no such resource or operation: {}", req.path()),
    );
    Err(if req.path().starts_with("/fhir") {
        e.with_flavour(Flavour::Fhir)
    } else {
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_anything_is_acceptable_and_xml_alone_is_not() {
        for ok in [
            "",
            "*/*",
            "application/fhir+json",
            "application/fhir+json; fhirVersion=4.0",
            "application/xml, application/json;q=0.5",
            "application/*",
        ] {
            assert!(accepts_json(ok), "{ok}");
        }
        for bad in ["application/fhir+xml", "application/xml", "text/html"] {
            assert!(!accepts_json(bad), "{bad}");
        }
        assert!(format_is_json("application/fhir+json") && !format_is_json("xml"));
    }
}
