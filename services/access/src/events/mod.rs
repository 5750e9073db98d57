//! What the access service consumes:
//! - every service's audit stream (`tessera.<ods>.audit.events`) into the audit store;
//! - care events that create and end legitimate relationships: a referral accepted by a team
//!   (`referrals.referral`), an admission to a ward (`pas.encounter`), an appointment with a
//!   clinician (`scheduling.appointment`). A closure ends what its opening created, after the
//!   trust's grace period for that origin;
//! - the MPI's merges (`mpi.patient`), by docs/contracts/merge.md: a merge gives the survivor
//!   copies of the merged record's live relationships and seals (source `merge:<id>`); an
//!   unmerge ends and removes exactly those copies.
//!
//! And what it publishes on its own: [`heartbeat`] (the projection's clock) and [`heads`]
//! (the audit chain heads).
mod audit_store;
mod care;
pub mod heads;
pub mod heartbeat;
mod merges;

pub use audit_store::AuditStore;
pub use care::CareEvents;
pub use merges::Merges;
use tessera_events::ConsumerSpec;

pub fn specs(
    prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> Vec<(ConsumerSpec, Purpose)> {
    let spec = |purpose: &str, service: &str, stream: &str| ConsumerSpec {
        group: format!("{prefix}.{purpose}"),
        service: service.into(),
        stream: stream.into(),
        max_attempts: 10,
        only: only.clone(),
    };
    vec![
        (spec("audit-store", "audit", "events"), Purpose::AuditStore),
        (
            spec("referral-relationships", "referrals", "referral"),
            Purpose::CareEvents,
        ),
        (
            spec("admission-relationships", "pas", "encounter"),
            Purpose::CareEvents,
        ),
        (
            spec("appointment-relationships", "scheduling", "appointment"),
            Purpose::CareEvents,
        ),
        (spec("merges", "mpi", "patient"), Purpose::Merges),
    ]
}

#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    AuditStore,
    CareEvents,
    Merges,
}
