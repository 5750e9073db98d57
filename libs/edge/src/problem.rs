//! One error type for every service's HTTP layer, mapped once to a response: RFC 9457 problem details for
//! the JSON API, `OperationOutcome` for FHIR. A 500 tells the client nothing about the cause;
//! the cause is logged (it never contains patient data: store errors carry ids and codes).
use crate::codes::{self, ErrorCode};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// One invalid field: where (a path in the JSON representation), a stable code, and words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Json,
    Fhir,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, documented code (docs/contracts/api-errors.md), from a catalogue
    /// ([`crate::codes`]).
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub flavour: Flavour,
    pub retry_after: Option<u64>,
    /// Maps a field path to the FHIRPath of an `OperationOutcome` issue's `expression`.
    pub fhir_path: fn(&str) -> String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    /// An error with a catalogued code: its status is the code's.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code: code.code(),
            detail: detail.into(),
            errors: vec![],
            flavour: Flavour::Json,
            retry_after: None,
            fhir_path: str::to_string,
        }
    }

    /// Field paths in FHIR answers become these FHIRPath expressions.
    pub fn with_fhir_paths(mut self, f: fn(&str) -> String) -> Self {
        self.fhir_path = f;
        self
    }

    /// A temporary refusal: the client may retry after `seconds` (`Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_flavour(mut self, flavour: Flavour) -> Self {
        self.flavour = flavour;
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors,
            ..Self::new(codes::VALIDATION, detail)
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(codes::BAD_REQUEST, detail)
    }

    pub fn not_found() -> Self {
        Self::new(codes::NOT_FOUND, "no such patient")
    }

    /// A database failure: 503 `dependency.unavailable` with `Retry-After` when it is of the
    /// kind that passes (the server restarting, a connection cut, the pool exhausted), else
    /// 500. Nothing was committed either way.
    pub fn database(e: &sea_orm::DbErr) -> Self {
        if transient(e) {
            tracing::warn!(error = %e, "database unavailable");
            Self::new(
                codes::DEPENDENCY_UNAVAILABLE,
                "the database is not answering just now; retry shortly",
            )
            .retry_after(1)
        } else {
            Self::internal(e)
        }
    }

    /// An event that could not be put in the outbox: a database failure like any other.
    pub fn outbox(e: &tessera_events::EventError) -> Self {
        match e {
            tessera_events::EventError::Db(d) => Self::database(d),
        }
    }

    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            codes::INTERNAL,
            "an internal error occurred; it has been logged",
        )
    }

    pub fn throttled(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                codes::RATE_LIMITED,
                "this trust's request budget is used up; retry shortly",
            )
        }
    }

    fn fhir_issue_code(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "structure",
            401 => "login",
            403 => "forbidden",
            404 => "not-found",
            409 => "duplicate",
            412 => "conflict",
            415 => "not-supported",
            422 => "invalid",
            429 => "throttled",
            503 => "transient",
            _ => "exception",
        }
    }
}

/// A reference to a patient the trust does not have (ADR 21): 422, or 503 with `Retry-After`
/// while a recently registered patient may still be on its way, or 409 for a merged record.
impl From<tessera_patients::Refused> for ApiError {
    fn from(r: tessera_patients::Refused) -> Self {
        use tessera_patients::Refused;
        let code = r.code();
        match &r {
            Refused::Unknown => ApiError::validation(vec![FieldError::new(
                "patient_id",
                code,
                "no patient with this id in your trust's index",
            )]),
            Refused::NotYetKnown => {
                ApiError::new(codes::PATIENT_NOT_YET_KNOWN, r.to_string()).retry_after(2)
            }
            Refused::MergedInto(_) => ApiError::new(codes::PATIENT_MERGED, r.to_string()),
            Refused::Db(e) => ApiError::internal(e),
        }
    }
}

/// Whether a database failure is of the kind that passes: no connection (the server restarting
/// or away, the pool exhausted), or a statement cut off with its connection.
pub fn transient(e: &sea_orm::DbErr) -> bool {
    use sea_orm::DbErr;
    match e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(_) | DbErr::Query(_) => {
            let text = e.to_string().to_lowercase();
            [
                "terminating connection",
                "shutting down",
                "connection refused",
                "connection reset",
                "connection closed",
                "broken pipe",
                "pool timed out",
                "the database system is starting up",
            ]
            .iter()
            .any(|k| text.contains(k))
        }
        _ => false,
    }
}

/// The body of every JSON error: RFC 9457 problem details with the stable `code`
/// (docs/contracts/api-errors.md) and, for a validation failure, one entry per field.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `https://tessera.nhs.uk/problems/<code>`.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

/// The body of every FHIR error.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: &'static str,
    pub issue: Vec<Issue>,
}

#[derive(Serialize, ToSchema)]
pub struct Issue {
    pub severity: &'static str,
    pub code: String,
    pub details: CodeableConcept,
    pub diagnostics: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
}

#[derive(Serialize, ToSchema)]
pub struct Coding {
    pub system: &'static str,
    pub code: String,
}

const ERROR_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/api-error";

impl ApiError {
    fn operation_outcome(&self) -> OperationOutcome {
        let details = |code: &str| CodeableConcept {
            coding: vec![Coding {
                system: ERROR_SYSTEM,
                code: code.to_string(),
            }],
        };
        let issue = if self.errors.is_empty() {
            vec![Issue {
                severity: "error",
                code: self.fhir_issue_code().to_string(),
                details: details(self.code),
                diagnostics: self.detail.clone(),
                expression: None,
            }]
        } else {
            self.errors
                .iter()
                .map(|e| Issue {
                    severity: "error",
                    code: if e.code == "required" {
                        "required"
                    } else {
                        "value"
                    }
                    .to_string(),
                    details: details(&e.code),
                    diagnostics: format!("{}: {}", e.field, e.message),
                    expression: Some(vec![(self.fhir_path)(&e.field)]),
                })
                .collect()
        };
        OperationOutcome {
            resource_type: "OperationOutcome",
            issue,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            b.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        match self.flavour {
            Flavour::Json => b.content_type("application/problem+json").json(Problem {
                r#type: format!("https://tessera.nhs.uk/problems/{}", self.code),
                title: self
                    .status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .to_string(),
                status: self.status.as_u16(),
                code: self.code.to_string(),
                detail: self.detail.clone(),
                errors: self.errors.clone(),
            }),
            Flavour::Fhir => b
                .content_type("application/fhir+json")
                .json(self.operation_outcome()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbErr, RuntimeErr};

    #[test]
    fn a_database_that_is_away_is_a_retryable_answer_and_a_broken_query_is_not() {
        let away = DbErr::Conn(RuntimeErr::Internal("connection refused".into()));
        let e = ApiError::database(&away);
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (503, "dependency.unavailable", Some(1))
        );
        let cut = DbErr::Query(RuntimeErr::Internal(
            "error returned from database: terminating connection due to administrator command"
                .into(),
        ));
        assert_eq!(ApiError::database(&cut).status.as_u16(), 503);
        let broken = DbErr::Query(RuntimeErr::Internal("syntax error at or near".into()));
        assert_eq!(ApiError::database(&broken).status.as_u16(), 500);
    }
}
