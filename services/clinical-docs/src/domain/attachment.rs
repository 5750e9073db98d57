//! Scanned and received content: one of the types the service keeps, its bytes what the
//! type says (the file's signature, not the client's word), within the size limit, held with
//! its SHA-256.
use super::DomainError;
use sha2::{Digest, Sha256};
use std::fmt;

/// The content types kept, and the signature their bytes start with.
const KINDS: &[(&str, &[&[u8]])] = &[
    ("application/pdf", &[b"%PDF-"]),
    ("image/jpeg", &[b"\xff\xd8\xff"]),
    ("image/png", &[b"\x89PNG\r\n\x1a\n"]),
    ("image/tiff", &[b"II*\0", b"MM\0*"]),
];

/// Why content is refused: the type (415) or the size (413).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Type(String),
    TooLarge { limit: usize },
    Invalid(DomainError),
}

/// An attachment's content, checked.
#[derive(Clone)]
pub struct Attachment {
    pub title: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attachment({}, {} bytes)",
            self.content_type,
            self.bytes.len()
        )
    }
}

impl Attachment {
    pub fn parse(
        title: &str,
        content_type: &str,
        bytes: Vec<u8>,
        limit: usize,
    ) -> Result<Self, Refusal> {
        let title = super::text("title", title, 300).map_err(Refusal::Invalid)?;
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let Some((kind, signatures)) = KINDS.iter().find(|(k, _)| *k == essence) else {
            let kept: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(Refusal::Type(format!(
                "{essence:?} is not kept here: {}",
                kept.join(", ")
            )));
        };
        if bytes.len() > limit {
            return Err(Refusal::TooLarge { limit });
        }
        if !signatures.iter().any(|s| bytes.starts_with(s)) {
            return Err(Refusal::Type(format!(
                "the content is not {kind}: its bytes do not start as one does"
            )));
        }
        Ok(Self {
            title,
            content_type: kind,
            bytes,
        })
    }

    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_is_what_its_type_says_and_within_the_limit() {
        assert!(
            Attachment::parse("Scan", "application/pdf", b"%PDF-1.7 ...".to_vec(), 100).is_ok()
        );
        assert!(Attachment::parse(
            "Scan",
            "image/png; q=1",
            b"\x89PNG\r\n\x1a\nrest".to_vec(),
            100
        )
        .is_ok());
        assert!(matches!(
            Attachment::parse("Scan", "application/pdf", b"MZ\x90\0".to_vec(), 100),
            Err(Refusal::Type(_))
        ));
        assert!(matches!(
            Attachment::parse("Scan", "application/x-msdownload", b"MZ".to_vec(), 100),
            Err(Refusal::Type(_))
        ));
        assert!(matches!(
            Attachment::parse("Scan", "application/pdf", vec![b'%'; 101], 100),
            Err(Refusal::TooLarge { limit: 100 })
        ));
        assert!(matches!(
            Attachment::parse("", "application/pdf", b"%PDF-".to_vec(), 100),
            Err(Refusal::Invalid(_))
        ));
    }
}
