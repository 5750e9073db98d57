//! The edge's check on every piece of text a client sends, before any handler sees it: the
//! path, each query parameter and every string (and key) of a JSON body. Control characters
//! (a NUL byte above all, which PostgreSQL refuses with an error) and text longer than the
//! platform accepts are answered with a 400 problem (`OperationOutcome` under `/fhir`), so
//! no service can answer 500 for them or store 100,000 characters of "note".
//!
//! Free text in a JSON body may hold tabs and line breaks; a path or a query parameter may
//! not. Each domain type may set a tighter limit (a family name's 35 characters, say); this is
//! the backstop that holds for every route, present and future (ADR 20).
//!
//! Bodies that are not JSON (HL7 v2 ER7, whose segments end in carriage returns) are left to
//! their own parsers, which refuse what they cannot read.
use crate::problem::{ApiError, FieldError, Flavour};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error};

/// The longest text any one JSON string may hold, in characters, unless the service says
/// otherwise ([`TextLimit`]).
pub const MAX_TEXT_CHARS: usize = 4_000;

/// A service whose JSON carries long free text (a clinical document's body) sets its own
/// limit on one string, as app data (`cfg.app_data(TextLimit(n))` in its routes); its domain
/// types still hold each field to its own length.
#[derive(Debug, Clone, Copy)]
pub struct TextLimit(pub usize);
/// The longest value any one query parameter or path may hold, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// What is wrong with one piece of text, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFault {
    /// `path`, `query.<name>` or a JSON pointer into the body (`body/name/0/family`).
    pub field: String,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    ControlCharacter,
    TooLong { limit: usize },
}

impl TextFault {
    fn to_field_error(&self) -> FieldError {
        match self.kind {
            FaultKind::ControlCharacter => FieldError::new(
                &self.field,
                "control-character",
                "control characters (such as NUL) are not allowed",
            ),
            FaultKind::TooLong { limit } => FieldError::new(
                &self.field,
                "too-long",
                format!("longer than the {limit} characters allowed"),
            ),
        }
    }
}

/// Checks one line of text (a path, a query value): no control character at all.
pub fn check_line(field: &str, text: &str, limit: usize) -> Option<TextFault> {
    check(field, text, limit, false)
}

/// Checks free text: tabs and line breaks allowed, every other control character refused.
pub fn check_free_text(field: &str, text: &str, limit: usize) -> Option<TextFault> {
    check(field, text, limit, true)
}

fn check(field: &str, text: &str, limit: usize, multi_line: bool) -> Option<TextFault> {
    let allowed = |c: char| multi_line && matches!(c, '\t' | '\n' | '\r');
    let kind = if text.chars().any(|c| c.is_control() && !allowed(c)) {
        FaultKind::ControlCharacter
    } else if text.chars().nth(limit).is_some() {
        FaultKind::TooLong { limit }
    } else {
        return None;
    };
    Some(TextFault {
        field: field.to_string(),
        kind,
    })
}

/// The first faults in the request line: the decoded path and every decoded query pair.
pub fn check_request_line(path: &str, query: &str) -> Vec<TextFault> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut faults: Vec<TextFault> = check_line("path", &decoded, MAX_QUERY_CHARS)
        .into_iter()
        .collect();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let field = format!("query.{}", printable(&name));
        faults.extend(check_line(&field, &name, MAX_QUERY_CHARS));
        faults.extend(check_line(&field, &value, MAX_QUERY_CHARS));
    }
    faults
}

/// Every fault in a JSON document's strings and keys.
pub fn check_json(value: &serde_json::Value) -> Vec<TextFault> {
    check_json_within(value, MAX_TEXT_CHARS)
}

/// Every fault in a JSON document's strings (none longer than `limit`) and keys.
pub fn check_json_within(value: &serde_json::Value, limit: usize) -> Vec<TextFault> {
    let mut faults = vec![];
    walk(value, &mut String::from("body"), limit, &mut faults);
    faults
}

fn walk(value: &serde_json::Value, at: &mut String, limit: usize, faults: &mut Vec<TextFault>) {
    match value {
        serde_json::Value::String(s) => faults.extend(check_free_text(at, s, limit)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                descend(at, &i.to_string(), |at| walk(item, at, limit, faults));
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                faults.extend(check_line(&format!("{at}/{}", printable(key)), key, 200));
                descend(at, &printable(key), |at| walk(item, at, limit, faults));
            }
        }
        _ => {}
    }
}

fn descend(at: &mut String, segment: &str, f: impl FnOnce(&mut String)) {
    let len = at.len();
    at.push('/');
    at.push_str(segment);
    f(at);
    at.truncate(len);
}

/// A name safe to echo back in an error: control characters shown as `?`, cut to 60 characters.
fn printable(s: &str) -> String {
    s.chars()
        .take(60)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false)
}

fn refuse(req: &ServiceRequest, faults: Vec<TextFault>) -> Error {
    let errors: Vec<FieldError> = faults
        .iter()
        .take(20)
        .map(TextFault::to_field_error)
        .collect();
    let mut e = ApiError::validation(errors);
    e.status = crate::codes::INVALID_TEXT.status();
    e.code = crate::codes::INVALID_TEXT.code();
    if req.path().starts_with("/fhir") {
        e = e.with_flavour(Flavour::Fhir).with_fhir_paths(fhir_path);
    }
    e.into()
}

/// `body/name/0/family` as the FHIRPath `name[0].family`; a query or path place as it is.
fn fhir_path(field: &str) -> String {
    let Some(rest) = field.strip_prefix("body/") else {
        return field.to_string();
    };
    let mut out = String::new();
    for segment in rest.split('/') {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// The middleware (`actix_web::middleware::from_fn`): refuses bad text, otherwise passes the
/// request on with its body intact.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let mut faults = check_request_line(req.path(), req.query_string());
    if faults.is_empty() && is_json(&req) {
        let body = req.extract::<web::Bytes>().await?;
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) {
            let limit = req.app_data::<TextLimit>().map_or(MAX_TEXT_CHARS, |l| l.0);
            faults = check_json_within(&value, limit);
        }
        req.set_payload(payload_of(body));
    }
    if !faults.is_empty() {
        let e = refuse(&req, faults);
        return Ok(req.error_response(e).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn payload_of(body: web::Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    actix_web::dev::Payload::from(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_anywhere_in_a_body_is_found_with_its_place() {
        let v = serde_json::json!({"name": [{"family": "Smi\u{0}th"}], "ok": "fine"});
        let faults = check_json(&v);
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].field, "body/name/0/family");
        assert_eq!(faults[0].kind, FaultKind::ControlCharacter);
    }

    #[test]
    fn free_text_keeps_its_line_breaks_but_a_query_may_not() {
        assert!(check_free_text("n", "line one\r\nline\ttwo", 100).is_none());
        assert!(check_line("q", "line one\nline two", 100).is_some());
        assert!(check_free_text("n", "bell\u{7}", 100).is_some());
        assert!(check_free_text("n", "delete\u{7f}", 100).is_some());
    }

    #[test]
    fn text_one_past_the_limit_is_refused_and_at_the_limit_accepted() {
        let at = "é".repeat(MAX_TEXT_CHARS);
        assert!(check_json(&serde_json::json!({ "note": at })).is_empty());
        let over = format!("{at}x");
        let faults = check_json(&serde_json::json!({ "note": over }));
        assert_eq!(
            faults[0].kind,
            FaultKind::TooLong {
                limit: MAX_TEXT_CHARS
            }
        );
    }

    #[test]
    fn percent_encoded_controls_in_the_path_and_query_are_found() {
        assert_eq!(check_request_line("/teams/a%00b", "").len(), 1);
        let faults = check_request_line("/fhir/Patient", "family=Sm%00ith&given=Jo");
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].field, "query.family");
        assert!(check_request_line("/fhir/Patient", "family=Smith&given=Jo+Ann").is_empty());
    }

    #[test]
    fn a_body_place_reads_as_fhirpath() {
        assert_eq!(fhir_path("body/name/0/family"), "name[0].family");
        assert_eq!(fhir_path("query.family"), "query.family");
    }

    #[test]
    fn an_unprintable_key_is_not_echoed_back() {
        let v = serde_json::json!({ "a\u{0}b": 1 });
        let faults = check_json(&v);
        assert_eq!(faults[0].field, "body/a?b");
    }
}
