//! The PAS service's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]).
//! `docs/contracts/api-errors.md` lists each one; the test below checks.
tessera_edge::error_codes! {
    /// The PAS service's own codes.
    pub CATALOGUE;
    WARD_EXISTS = (409, "ward.exists");
    /// Someone is in the bed (or was, after the time given): the loser of a race for it.
    BED_OCCUPIED = (409, "bed.occupied");
    /// The bed is closed or being cleaned.
    BED_UNAVAILABLE = (409, "bed.unavailable");
    /// The patient already has an open spell in this trust.
    ALREADY_ADMITTED = (409, "spell.already-admitted");
    /// The spell is discharged or cancelled: it cannot be transferred or discharged.
    NOT_ADMITTED = (409, "spell.not-admitted");
    /// The time given is before the spell's last action, or in the future.
    OUT_OF_ORDER = (409, "spell.out-of-order");
    /// A leave begun while on leave, or ended while not on leave.
    LEAVE_STATE = (409, "spell.leave-state");
    /// The spell has no admission, transfer or discharge left to cancel.
    NOTHING_TO_CANCEL = (409, "spell.nothing-to-cancel");
    /// The waiting list entry was admitted or removed: nothing more happens to it.
    WAITING_LIST_CLOSED = (409, "waiting-list.closed");
    /// A withdrawn activity record cannot be coded.
    ACTIVITY_WITHDRAWN = (409, "activity.withdrawn");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_pas_service_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
