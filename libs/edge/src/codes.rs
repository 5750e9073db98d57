//! Error codes: each one an HTTP status and a stable code, declared once in a catalogue. The
//! edge's own codes are [`EDGE`]; each service declares the codes it adds in its
//! `api/errors.rs` with [`error_codes!`](crate::error_codes), and a test there checks its
//! catalogue, with [`EDGE`], against the table in `docs/contracts/api-errors.md`. An
//! [`ApiError`](crate::problem::ApiError) is built from an [`ErrorCode`], so no code reaches a
//! client without being in a catalogue.
use actix_web::http::StatusCode;

/// One error the API can answer: its HTTP status and its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    status: u16,
    code: &'static str,
}

impl ErrorCode {
    /// Declared only through [`error_codes!`](crate::error_codes).
    #[doc(hidden)]
    pub const fn declare(status: u16, code: &'static str) -> Self {
        Self { status, code }
    }

    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn http(self) -> u16 {
        self.status
    }

    pub fn code(self) -> &'static str {
        self.code
    }
}

/// Declares error codes as constants and the catalogue that lists them all:
///
/// ```ignore
/// tessera_edge::error_codes! {
///     /// The referrals service's own codes.
///     pub CATALOGUE;
///     DUPLICATE_UBRN = (409, "referral.duplicate-ubrn");
/// }
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $(#[$cat_meta:meta])* $vis:vis $catalogue:ident;
        $( $(#[$meta:meta])* $name:ident = ($status:literal, $code:literal); )*
    ) => {
        $( $(#[$meta])* $vis const $name: $crate::codes::ErrorCode =
            $crate::codes::ErrorCode::declare($status, $code); )*
        $(#[$cat_meta])*
        $vis const $catalogue: &[$crate::codes::ErrorCode] = &[ $( $name ),* ];
    };
}

error_codes! {
    /// What the edge answers for every service: bodies and text, authentication, the gate,
    /// tenants, idempotency, rate limits, FHIR negotiation and search, and the access decision.
    pub EDGE;
    BAD_REQUEST = (400, "bad-request");
    INVALID_TEXT = (400, "input.invalid-text");
    VALIDATION = (422, "validation");
    NOT_FOUND = (404, "not-found");
    INTERNAL = (500, "internal");
    RATE_LIMITED = (429, "rate-limited");
    /// A store the request needs (Redis: session revocations, idempotency records) did not
    /// answer: temporary, retry after `Retry-After`.
    DEPENDENCY_UNAVAILABLE = (503, "dependency.unavailable");
    AUTH_MISSING_TOKEN = (401, "auth.missing-token");
    AUTH_MALFORMED = (401, "auth.malformed");
    AUTH_ALGORITHM = (401, "auth.algorithm");
    AUTH_UNKNOWN_KEY = (401, "auth.unknown-key");
    AUTH_SIGNATURE = (401, "auth.signature");
    AUTH_EXPIRED = (401, "auth.expired");
    AUTH_ISSUER = (401, "auth.issuer");
    AUTH_AUDIENCE = (401, "auth.audience");
    AUTH_SELECTED_ROLE = (401, "auth.selected-role");
    AUTH_REVOKED = (401, "auth.revoked");
    /// The identity provider's keys could not be fetched: temporary, retry.
    AUTH_KEY_SET = (503, "auth.key-set");
    ACCESS_ACTIVITY = (403, "access.activity");
    ACCESS_JOB_ROLE = (403, "access.job-role");
    ACCESS_RELATIONSHIP = (403, "access.relationship");
    ACCESS_RELATIONSHIP_EXPIRED = (403, "access.relationship-expired");
    ACCESS_CONSENT = (403, "access.consent");
    ACCESS_SEALED = (403, "access.sealed");
    ACCESS_LOCKED = (403, "access.locked");
    TENANT_UNKNOWN = (403, "tenant.unknown");
    TENANT_PROVISIONING = (503, "tenant.provisioning");
    TENANT_SUSPENDED = (503, "tenant.suspended");
    TENANT_NOT_YET_KNOWN = (503, "tenant.not-yet-known");
    IDEMPOTENCY_IN_FLIGHT = (409, "idempotency.in-flight");
    IDEMPOTENCY_MISMATCH = (422, "idempotency.mismatch");
    FHIR_NOT_ACCEPTABLE = (406, "fhir.not-acceptable");
    SEARCH_UNKNOWN_PARAMETER = (400, "search.unknown-parameter");
    SEARCH_PAGING = (400, "search.paging");
    SEARCH_INVALID = (400, "search.invalid");
    SEARCH_SORT = (400, "search.sort");
    SEARCH_DATE = (400, "search.date");
    /// More match a search than it will look through: narrow it (no silent truncation).
    SEARCH_TOO_MANY = (400, "search.too-many");
    PATIENT_UNKNOWN = (422, "patient.unknown");
    PATIENT_NOT_YET_KNOWN = (503, "patient.not-yet-known");
    PATIENT_MERGED = (409, "patient.merged");
}

/// What an authentication failure answers.
pub fn of_auth(e: &tessera_access::AuthError) -> ErrorCode {
    use tessera_access::AuthError as A;
    match e {
        A::MissingToken => AUTH_MISSING_TOKEN,
        A::Malformed => AUTH_MALFORMED,
        A::UnsupportedAlgorithm => AUTH_ALGORITHM,
        A::UnknownKey => AUTH_UNKNOWN_KEY,
        A::BadSignature => AUTH_SIGNATURE,
        A::Expired => AUTH_EXPIRED,
        A::WrongIssuer => AUTH_ISSUER,
        A::WrongAudience => AUTH_AUDIENCE,
        A::NoSelectedRole(_) => AUTH_SELECTED_ROLE,
        A::Revoked => AUTH_REVOKED,
        A::KeySet(_) => AUTH_KEY_SET,
    }
}

/// What a refusal by the access decision answers: its reason is the code (ADR 13).
pub fn of_refusal(reason: &str) -> ErrorCode {
    find(EDGE, reason)
        .filter(|c| c.status == 403)
        .unwrap_or(ACCESS_RELATIONSHIP)
}

/// The code in `catalogue` named `code`, for codes that travel as text (an authentication
/// failure's, the access decision's reason).
pub fn find(catalogue: &[ErrorCode], code: &str) -> Option<ErrorCode> {
    catalogue.iter().copied().find(|c| c.code == code)
}

/// The codes of `catalogue` the table in `docs/contracts/api-errors.md` does not list with
/// the same HTTP status: what a catalogue test asserts is empty.
pub fn undocumented(catalogue: &[ErrorCode], table: &str) -> Vec<String> {
    let documented: Vec<(u16, &str)> = table
        .lines()
        .filter_map(|l| {
            let mut cells = l.split('|').map(str::trim).skip(1);
            let status: u16 = cells.next()?.parse().ok()?;
            let codes = cells.next()?;
            Some(
                codes
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(move |c| (status, c))
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    catalogue
        .iter()
        .filter(|c| !documented.contains(&(c.status, c.code)))
        .map(|c| format!("{} {}", c.status, c.code))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "| HTTP | code | when |\n|---|---|---|\n\
        | 409 | `a.one`, `a.two` (access) | x |\n| 400 | `b` | y |\n";

    #[test]
    fn a_code_is_documented_only_with_its_status() {
        let one = ErrorCode::declare(409, "a.one");
        let two_wrong_status = ErrorCode::declare(400, "a.two");
        let missing = ErrorCode::declare(404, "c");
        assert!(undocumented(&[one, ErrorCode::declare(400, "b")], TABLE).is_empty());
        assert_eq!(
            undocumented(&[one, two_wrong_status, missing], TABLE),
            vec!["400 a.two".to_string(), "404 c".to_string()]
        );
    }

    #[test]
    fn the_edge_catalogue_is_documented() {
        let table = include_str!("../../../docs/contracts/api-errors.md");
        assert_eq!(undocumented(EDGE, table), Vec::<String>::new());
    }

    #[test]
    fn every_authentication_failure_answers_its_own_code() {
        use tessera_access::AuthError as A;
        for e in [
            A::MissingToken,
            A::Malformed,
            A::UnsupportedAlgorithm,
            A::UnknownKey,
            A::BadSignature,
            A::Expired,
            A::WrongIssuer,
            A::WrongAudience,
            A::NoSelectedRole(""),
            A::Revoked,
            A::KeySet(String::new()),
        ] {
            assert_eq!(of_auth(&e).code(), e.code());
        }
        assert_eq!(of_auth(&A::KeySet(String::new())).http(), 503);
    }

    #[test]
    fn every_reason_the_access_decision_gives_is_a_catalogued_refusal() {
        for reason in [
            "access.activity",
            "access.consent",
            "access.relationship",
            "access.relationship-expired",
            "access.sealed",
            "access.locked",
        ] {
            assert_eq!(of_refusal(reason).code(), reason);
        }
    }

    #[test]
    fn codes_are_unique_in_the_edge_catalogue() {
        let mut seen: Vec<&str> = EDGE.iter().map(|c| c.code()).collect();
        seen.sort_unstable();
        let n = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), n);
    }
}
