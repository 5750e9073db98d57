//! The MPI's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]): every code its
//! API answers or its audit records give. `docs/contracts/api-errors.md` lists each one; the
//! test below checks.
tessera_edge::error_codes! {
    /// The MPI's own codes.
    pub CATALOGUE;
    DUPLICATE_NHS_NUMBER = (409, "patient.duplicate-nhs-number");
    DUPLICATE_LOCAL_NUMBER = (409, "patient.duplicate-local-number");
    VERSION_CONFLICT = (412, "patient.version-conflict");
    REGISTRATION_RACE = (409, "patient.registration-race");
    /// An HL7 merge (A40) naming identifiers no patient has.
    UNKNOWN_IDENTIFIER = (404, "patient.unknown-identifier");
    MERGE_SAME_PATIENT = (409, "merge.same-patient");
    MERGE_ALREADY_MERGED = (409, "merge.already-merged");
    MERGE_ALREADY_UNMERGED = (409, "merge.already-unmerged");
    MERGE_SURVIVOR_MERGED = (409, "merge.survivor-merged");
    REVIEW_DECIDED = (409, "review.decided");
    SEARCH_TOO_BROAD = (400, "search.too-broad");
    MATCH_TOO_LITTLE = (400, "match.too-little");
    /// HL7 v2 messages refused before any work (answered with an AR ACK; the code is the
    /// audit record's reason).
    HL7_EMPTY = (400, "hl7.empty");
    HL7_NO_MSH = (400, "hl7.no-msh");
    HL7_DELIMITERS = (400, "hl7.delimiters");
    HL7_SEGMENT_NAME = (400, "hl7.segment-name");
    HL7_ENCODING = (400, "hl7.encoding");
    HL7_CONTROL_ID = (400, "hl7.control-id");
    HL7_EVENT = (400, "hl7.event");
    HL7_MESSAGE_TYPE = (400, "hl7.message-type");
    HL7_MRG = (400, "hl7.mrg");
    HL7_NO_PID = (400, "hl7.no-pid");
    HL7_NO_PV1 = (400, "hl7.no-pv1");
    HL7_VERSION = (400, "hl7.version");
    HL7_WRONG_TRUST = (400, "hl7.wrong-trust");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_mpi_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
