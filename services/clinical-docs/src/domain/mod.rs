//! Parsed domain types, no I/O: documents ([`document`]: type, status, content, the context
//! a document belongs to), templates and the answers given to them ([`template`]), and the
//! NEWS2 score ([`news2`]). Parsing happens once at the edge; everything behind it holds these.
pub mod assessment;
pub mod attachment;
pub mod document;
pub mod letter;
pub mod news2;
pub mod template;

pub use document::{Content, Context, DocType, NewDocument, Reason, Status};

tessera_edge::uuid_id!(
    /// A clinical document (every version of it).
    DocumentId
);
tessera_edge::uuid_id!(
    /// A template (every version of it shares its code; each version has its own id).
    TemplateId
);
tessera_edge::uuid_id!(
    /// An attachment: scanned or received content, held once, by its hash.
    AttachmentId
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
}

impl DomainError {
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// `s` trimmed, 1 to `max` characters, no control characters but line breaks and tabs.
pub fn text(field: &str, s: &str, max: usize) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            "length",
            format!("1 to {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            "format",
            "no control characters",
        ));
    }
    Ok(s.to_string())
}

/// A user, team or role code as tokens carry them: 1 to 64 of letters, digits and `-_.:@`.
pub fn code(field: &str, s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid(
            field,
            "format",
            "1 to 64 letters, digits or -_.:@",
        ))
    }
}
