//! The scheduling service's error codes, beyond the edge's ([`tessera_edge::codes::EDGE`]).
//! `docs/contracts/api-errors.md` lists each one; the test below checks.
tessera_edge::error_codes! {
    /// The scheduling service's own codes.
    pub CATALOGUE;
    CLINIC_EXISTS = (409, "clinic.exists");
    /// Every place is booked or held (the loser of a race for the last place).
    SLOT_FULL = (409, "slot.full");
    /// The slot is blocked, or its session cancelled.
    SLOT_UNAVAILABLE = (409, "slot.unavailable");
    HOLD_LAPSED = (409, "hold.lapsed");
    /// The patient has a booked appointment at an overlapping time.
    PATIENT_DOUBLE_BOOKED = (409, "appointment.patient-clash");
    NOT_BOOKED = (409, "appointment.not-booked");
    /// An outcome before the appointment's day.
    NOT_YET = (409, "appointment.not-yet");
    /// `If-Match` names a version that is no longer the appointment's.
    VERSION_CONFLICT = (412, "appointment.version-conflict");
    /// A FHIR `Appointment` update that changes more than its status.
    NOT_A_STATUS_CHANGE = (422, "appointment.not-a-status-change");
}

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use tessera_edge::codes::{undocumented, EDGE};

    #[test]
    fn every_code_the_scheduling_service_answers_is_in_the_error_table() {
        let table = include_str!("../../../../docs/contracts/api-errors.md");
        let all: Vec<_> = EDGE.iter().chain(CATALOGUE).copied().collect();
        assert_eq!(undocumented(&all, table), Vec::<String>::new());
    }
}
