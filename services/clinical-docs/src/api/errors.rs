//! The clinical documentation service's error codes, beyond the edge's
//! ([`tessera_edge::codes::EDGE`]). `docs/contracts/api-errors.md` lists each one; the test
//! below checks.
tessera_edge::error_codes! {
    /// The clinical documentation service's own codes.
    pub CATALOGUE;
    /// A document or template of a type the trust has not set up.
    TYPE_UNKNOWN = (422, "document.type-unknown");
    /// An edit of a signed document: amend it, with a reason.
    SIGNED = (409, "document.signed");
    /// An edit of a draft its author has signed, awaiting the countersignature.
    AWAITING_COUNTERSIGNATURE = (409, "document.awaiting-countersignature");
    ALREADY_SIGNED = (409, "document.already-signed");
    /// Only the author signs their document off.
    NOT_AUTHOR = (403, "document.not-author");
    NO_COUNTERSIGNATURE = (409, "document.no-countersignature");
    /// Countersigned before the author signed, or twice.
    NOT_AWAITING = (409, "document.not-awaiting-countersignature");
    COUNTERSIGN_SELF = (403, "document.countersign-self");
    /// The document names another clinician to countersign it.
    NOT_COUNTERSIGNER = (403, "document.not-countersigner");
    /// An amendment of a draft (edit it) or of a document entered in error.
    NOT_SIGNED = (409, "document.not-signed");
    ENTERED_IN_ERROR = (409, "document.entered-in-error");
    /// `If-Match` names a version that is no longer the newest: the body carries the newest.
    STALE = (412, "document.stale");
    /// A change without `If-Match`: a document is never updated blind.
    IF_MATCH_REQUIRED = (428, "document.if-match-required");
    /// An attachment whose content is not of a type the service keeps, or not what it says.
    ATTACHMENT_TYPE = (415, "attachment.type");
    ATTACHMENT_TOO_LARGE = (413, "attachment.too-large");
    /// An assessment's section signed already, or answers to a signed section.
    SECTION_SIGNED = (409, "assessment.section-signed");
    /// An assessment edited, signed or amended as a whole.
    BY_SECTION = (409, "assessment.by-section");
    /// A document that is not an assessment asked for its sections.
    NOT_AN_ASSESSMENT = (409, "assessment.not-an-assessment");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_clinical_docs_service_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
