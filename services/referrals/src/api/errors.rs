//! The referrals service's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]).
//! `docs/contracts/api-errors.md` lists each one; the test below checks.
pub use tessera_edge::codes::SEARCH_TOO_MANY;

tessera_edge::error_codes! {
    /// The referrals service's own codes.
    pub CATALOGUE;
    DUPLICATE_UBRN = (409, "referral.duplicate-ubrn");
    ILLEGAL_TRANSITION = (409, "referral.illegal-transition");
    CLOCK_RUNNING = (409, "referral.clock-running");
    VERSION = (409, "referral.version");
    /// A clock-stopping transition on a referral that is on no RTT pathway.
    NO_PATHWAY = (409, "referral.no-pathway");
    PATHWAY_UNKNOWN = (409, "pathway.unknown");
    PATHWAY_OTHER_PATIENT = (409, "pathway.other-patient");
    /// A new pathway whose PPID and issuer another pathway already has.
    PATHWAY_EXISTS = (409, "pathway.exists");
    /// A stored referral whose state this version cannot read (a newer version wrote it).
    STATE_UNREADABLE = (500, "referral.state-unreadable");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_referrals_service_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
