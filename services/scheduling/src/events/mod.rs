//! What the scheduling service consumes, beside the MPI's patients (`tessera_patients`):
//! the referrals service's referrals (`referrals.referral`), to keep the ready-to-book
//! worklist — the trust's referrals in state ACCEPTED ([`referrals`]); and the MPI's merges
//! and unmerges, which appointments follow (docs/contracts/merge.md, [`merges`]).
mod merges;
mod referrals;

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
            "referral-follower",
            spec("referrals", "referrals", "referral"),
            Arc::new(referrals::Referrals),
        ),
        (
            "merge-follower",
            spec("merges", "mpi", "patient"),
            Arc::new(tessera_patients::repoint::MergeFollower(merges::Merges)),
        ),
    ]
}
