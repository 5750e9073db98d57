//! Why a consumer's handler could not apply an event. The message is retried (a store that
//! failed may succeed next time) and, after its attempts, dead-lettered with the error's code
//! and text; nothing a handler refuses is lost.
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not the message its CloudEvents type names.
    #[error("undecodable {what}: {detail}")]
    Undecodable { what: String, detail: String },
    /// A well-formed event this service cannot apply: `code` says why (stable).
    #[error("{code}: {detail}")]
    Refused { code: &'static str, detail: String },
    /// The tenant's database failed or refused the write.
    #[error("store: {0}")]
    Store(String),
}

impl HandlerError {
    /// A stable code for logs, metrics and the dead-letter row.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Undecodable { .. } => "event.undecodable",
            Self::Refused { code, .. } => code,
            Self::Store(_) => "event.store",
        }
    }

    pub fn undecodable(what: impl Into<String>, e: impl Display) -> Self {
        Self::Undecodable {
            what: what.into(),
            detail: e.to_string(),
        }
    }

    pub fn refused(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
        }
    }

    /// A store error of any kind the handler's service has.
    pub fn store(e: impl Display) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::store(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_the_text_says_why() {
        let e = HandlerError::undecodable("PatientMerged", "bad wire type");
        assert_eq!(e.code(), "event.undecodable");
        assert_eq!(e.to_string(), "undecodable PatientMerged: bad wire type");
        assert_eq!(
            HandlerError::refused("tenant.unknown", "x").code(),
            "tenant.unknown"
        );
        assert_eq!(HandlerError::store("deadlock").code(), "event.store");
    }
}
