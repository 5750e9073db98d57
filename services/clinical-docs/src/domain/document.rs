//! A clinical document's parts as the edge parses them: its type (a SNOMED CT concept), its
//! status, its content (kept byte for byte), the encounter, appointment or referral it
//! belongs to, and the reason an amendment or an entered-in-error mark must give.
use super::{text, DomainError};
use sha2::{Digest, Sha256};
use std::fmt;
use tessera_nhs::ConceptId;

/// A document type: a SNOMED CT concept (record artefact), with the trust's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocType {
    pub code: ConceptId,
    pub display: String,
}

impl DocType {
    pub fn parse(code: &str, display: &str) -> Result<Self, DomainError> {
        let code = ConceptId::parse(code)
            .map_err(|e| DomainError::invalid("type.code", "snomed", e.to_string()))?;
        Ok(Self {
            code,
            display: text("type.display", display, 200)?,
        })
    }
}

/// Where a document is in its life (FHIR `Composition.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Being written: edited freely (with `If-Match`), not yet signed off.
    Draft,
    /// Signed off (and countersigned where the type asks): changed only by amendment.
    Final,
    /// Final, then amended with a reason.
    Amended,
    /// Should never have been written (wrong patient, wrong record): kept, flagged.
    EnteredInError,
}

impl Status {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Ok(match s {
            "draft" => Self::Draft,
            "final" => Self::Final,
            "amended" => Self::Amended,
            "entered-in-error" => Self::EnteredInError,
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    "code",
                    "draft, final, amended or entered-in-error",
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Final => "final",
            Self::Amended => "amended",
            Self::EnteredInError => "entered-in-error",
        }
    }

    /// Signed off: a change is an amendment and needs a reason.
    pub fn signed(self) -> bool {
        matches!(self, Self::Final | Self::Amended)
    }
}

/// The most a document's own content may hold (a very long discharge summary is a tenth of
/// it); larger content is an attachment. Under the edge's 1 MiB body limit with room for
/// JSON's escapes.
pub const MAX_CONTENT_BYTES: usize = 512 * 1024;

/// A document's content: text (plain or Markdown) or a structured body (JSON), kept byte for
/// byte as given, with its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct Content {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Content {
    // Clinical text is patient data: never in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Content({}, {} bytes)",
            self.content_type,
            self.bytes.len()
        )
    }
}

impl Content {
    /// Text as given (not trimmed: a clinician's layout is part of what they wrote).
    pub fn text(content_type: Option<&str>, s: &str) -> Result<Self, DomainError> {
        let content_type = match content_type.unwrap_or("text/plain") {
            "text/plain" => "text/plain",
            "text/markdown" => "text/markdown",
            _ => {
                return Err(DomainError::invalid(
                    "content_type",
                    "code",
                    "text/plain or text/markdown",
                ))
            }
        };
        if s.trim().is_empty() {
            return Err(DomainError::invalid("text", "required", "empty text"));
        }
        if s.len() > MAX_CONTENT_BYTES {
            return Err(DomainError::invalid(
                "text",
                "length",
                format!("at most {MAX_CONTENT_BYTES} bytes; attach larger documents"),
            ));
        }
        if s.chars().any(|c| c == '\0') {
            return Err(DomainError::invalid("text", "format", "no NUL characters"));
        }
        Ok(Self {
            content_type,
            bytes: s.as_bytes().to_vec(),
        })
    }

    /// A structured body (an assessment's answers and score).
    pub fn json(v: &serde_json::Value) -> Self {
        Self {
            content_type: "application/json",
            bytes: v.to_string().into_bytes(),
        }
    }

    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// The words full-text search indexes: the text itself, or a structured body's string
    /// values.
    pub fn words(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// The kind of record a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    Encounter,
    Appointment,
    Referral,
}

impl ContextKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encounter => "encounter",
            Self::Appointment => "appointment",
            Self::Referral => "referral",
        }
    }
}

/// The encounter (spell), appointment or referral a document is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub kind: ContextKind,
    pub id: uuid::Uuid,
}

impl Context {
    pub fn parse(kind: &str, id: &str) -> Result<Self, DomainError> {
        let kind = match kind {
            "encounter" => ContextKind::Encounter,
            "appointment" => ContextKind::Appointment,
            "referral" => ContextKind::Referral,
            _ => {
                return Err(DomainError::invalid(
                    "context.kind",
                    "code",
                    "encounter, appointment or referral",
                ))
            }
        };
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| DomainError::invalid("context.id", "format", "a UUID"))?;
        Ok(Self { kind, id })
    }
}

/// Why a signed document was amended, or a document marked entered in error.
#[derive(Clone, PartialEq, Eq)]
pub struct Reason(String);

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reason(***)")
    }
}

impl Reason {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        text("reason", s, 1000).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new document, parsed. (No `Debug`: its title and text are clinical.)
#[derive(Clone)]
pub struct NewDocument {
    pub patient_id: tessera_patients::PatientId,
    pub doc_type: DocType,
    pub title: String,
    pub content: Content,
    pub context: Option<Context>,
    /// Who must countersign (the type may ask for any countersignature; naming one narrows it).
    pub countersigner: Option<String>,
    /// What made it, when a system did (`outcome:<appointment>`): one document per source.
    pub source: Option<String>,
    /// A letter: the GP practice it goes to (`Some("")` when none is known).
    pub letter_to: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_is_kept_as_given_and_hashed() {
        let c = Content::text(None, "  Dear Dr Smith,\n\n  indented\n").unwrap();
        assert_eq!(c.bytes, b"  Dear Dr Smith,\n\n  indented\n");
        assert_eq!(c.sha256().len(), 64);
        assert!(format!("{c:?}").contains("bytes"));
        assert!(!format!("{c:?}").contains("Smith"));
    }

    #[test]
    fn bad_content_is_refused() {
        assert!(Content::text(None, "   ").is_err());
        assert!(Content::text(Some("text/html"), "<b>x</b>").is_err());
        assert!(Content::text(None, "a\0b").is_err());
        assert!(Content::text(None, &"x".repeat(MAX_CONTENT_BYTES + 1)).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["draft", "final", "amended", "entered-in-error"] {
            assert_eq!(Status::parse(s).unwrap().as_str(), s);
        }
        assert!(Status::parse("preliminary").is_err());
    }

    #[test]
    fn a_type_is_a_checked_concept() {
        assert!(DocType::parse("373942005", "Discharge summary").is_ok());
        assert!(DocType::parse("373942006", "Discharge summary").is_err());
    }
}
