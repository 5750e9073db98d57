//! The access service's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]).
//! `docs/contracts/api-errors.md` lists each one; the test below checks.
tessera_edge::error_codes! {
    /// The access service's own codes.
    pub CATALOGUE;
    ALERT_ACKNOWLEDGED = (409, "alert.acknowledged");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_access_service_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
