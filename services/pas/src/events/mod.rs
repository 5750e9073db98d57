//! What the PAS service consumes, beside the MPI's patients (`tessera_patients`):
//! scheduling's appointments (`scheduling.appointment`), whose attended outcomes become
//! outpatient activity ([`appointments`]).
mod appointments;

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
    vec![(
        "outpatient-activity",
        spec("appointments", "scheduling", "appointment"),
        Arc::new(appointments::Appointments),
    )]
}
