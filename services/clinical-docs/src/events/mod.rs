//! What the clinical documentation service consumes, beside the MPI's patients
//! (`tessera_patients`) and the access projection: the MPI's merges and unmerges, which a
//! patient's documents follow ([`merges`]).
mod merges;

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
        "merge-follower",
        spec("merges", "mpi", "patient"),
        Arc::new(tessera_patients::repoint::MergeFollower(merges::Merges)),
    )]
}
