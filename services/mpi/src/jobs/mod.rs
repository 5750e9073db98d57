//! What the MPI does on a timer, beside its API: [`retention`] keeps the stored HL7 ACKs to
//! their retention period.
pub mod retention;
