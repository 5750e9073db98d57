//! What the scheduling service consumes, beside the MPI's patients (`tessera_patients`):
//! the referrals service's referrals (`referrals.referral`), to keep the ready-to-book
//! worklist — the trust's referrals in state ACCEPTED ([`referrals`]).
mod referrals;

use std::sync::Arc;
use tessera_events::{ConsumerSpec, Handler};

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> Vec<(&'static str, ConsumerSpec, Arc<dyn Handler>)> {
    vec![(
        "referral-follower",
        ConsumerSpec {
            group: format!("{prefix}.referrals"),
            service: "referrals".into(),
            stream: "referral".into(),
            max_attempts: 10,
            only,
        },
        Arc::new(referrals::Referrals),
    )]
}
