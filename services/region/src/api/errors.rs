//! The regional record's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]).
//! `docs/contracts/api-errors.md` lists each one; the test below checks.
tessera_edge::error_codes! {
    /// The regional record's own codes.
    pub CATALOGUE;
    /// A proposal confirmed or rejected already.
    DECIDED = (409, "region.link-review-decided");
    /// A proposal one of whose records has been merged away since it was raised.
    GONE = (409, "region.link-review-stale");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_regional_record_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
