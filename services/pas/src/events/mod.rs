//! What the PAS service consumes, beside the MPI's patients (`tessera_patients`):
//! scheduling's appointments (`scheduling.appointment`), whose attended outcomes become
//! outpatient activity ([`appointments`]); the trust's ADT feed as the MPI forwards it
//! (`mpi.adt`, [`adt`]); the MPI's merges and unmerges, which spells, waiting list entries,
//! attendances and activity follow ([`merges`]).
mod adt;
mod appointments;
mod merges;

use std::sync::Arc;
use tessera_events::{ConsumerSpec, Handler};

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
    config: &crate::Config,
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
            "outpatient-activity",
            spec("appointments", "scheduling", "appointment"),
            Arc::new(appointments::Appointments),
        ),
        (
            "merge-follower",
            spec("merges", "mpi", "patient"),
            Arc::new(tessera_patients::repoint::MergeFollower(merges::Merges)),
        ),
        (
            "adt-feed",
            spec("adt", "mpi", "adt"),
            Arc::new(adt::Adt {
                clean: config.beds.clean_after_discharge,
            }),
        ),
    ]
}
