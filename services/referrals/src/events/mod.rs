//! What the referrals service consumes:
//! - the MPI's merges (`mpi.patient`), by docs/contracts/merge.md;
//! - clock events from the services that see the patient (docs/contracts/clock-events.md):
//!   appointment outcomes from scheduling (`scheduling.appointment`), admissions and decisions
//!   to admit from PAS (`pas.encounter`). Each is recorded once per pathway, named by its
//!   source (`scheduling:appointment:<id>:…`), so a redelivery changes nothing.
//!
//! - bookings from scheduling: the referral an appointment books moves to BOOKED ([`bookings`],
//!   read by the same consumer as the appointment's clock events).
//!
//! [`merges`] follows the MPI; [`clock`] reads the clock events out of the others' events.
mod bookings;
mod clock;
mod merges;

use clock::ClockEvents;
use merges::Merges;
use std::sync::Arc;
use tessera_events::{ConsumerSpec, Handler};

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> Vec<(&'static str, ConsumerSpec, Arc<dyn Handler>)> {
    let spec = |purpose: &str, service: &str, stream: &str| ConsumerSpec {
        group: format!("{prefix}.{purpose}"),
        service: service.into(),
        stream: stream.into(),
        max_attempts: 10,
        only: only.clone(),
    };
    vec![
        (
            "merge-follower",
            spec("merges", "mpi", "patient"),
            Arc::new(Merges),
        ),
        (
            "appointment-clock-consumer",
            spec("appointment-clock", "scheduling", "appointment"),
            Arc::new(ClockEvents),
        ),
        (
            "admission-clock-consumer",
            spec("admission-clock", "pas", "encounter"),
            Arc::new(ClockEvents),
        ),
    ]
}
