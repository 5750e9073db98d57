//! Parsed domain types, no I/O: recurring session patterns and the dates they give
//! ([`recurrence`]), clinics and session templates ([`clinic`]), appointments' attendance and
//! cancellation ([`attendance`]), and this service's typed ids. Parsing happens once at the
//! edge; everything behind it holds these types.
mod attendance;
mod clinic;
mod recurrence;

pub use attendance::{Attendance, CancelledBy};
pub use clinic::{three_digits, ClinicCode, NewClinic, NewTemplate, SlotType};
pub use recurrence::{Pattern, Weekday};

tessera_edge::uuid_id!(
    /// A clinic.
    ClinicId
);
tessera_edge::uuid_id!(
    /// A session template (a clinic's recurring session).
    TemplateId
);
tessera_edge::uuid_id!(
    /// One session of a clinic on one date.
    SessionId
);
tessera_edge::uuid_id!(
    /// A slot in a session.
    SlotId
);
tessera_edge::uuid_id!(
    /// A hold on a place in a slot.
    HoldId
);
tessera_edge::uuid_id!(
    /// An appointment.
    AppointmentId
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            code,
            message: message.into(),
        }
    }
}
