//! One message at a time, when a batch could not be applied whole: wait for its trust to be
//! provisioned here (a trust onboarded a moment ago), retry up to the spec's attempts, then
//! dead-letter it — in the platform schema for a trust this deployment does not know, whose
//! later messages go there at once.
use crate::apply;
use crate::consumer::{ConsumerSpec, Handler};
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use std::collections::HashSet;
use std::time::Duration;
use tessera_bootstrap::Shutdown;
use tessera_tenancy::{TenantDb, TenantId, TenantRegistry, TenantState};

/// Where a consumer applies its messages.
#[derive(Clone, Copy)]
pub(crate) struct Where<'a> {
    pub db: &'a TenantDb,
    pub registry: &'a TenantRegistry,
    pub handler: &'a dyn Handler,
    pub spec: &'a ConsumerSpec,
}

/// Applies one message, retrying until `spec.max_attempts`, then dead-letters it. Returns
/// `false` if shutdown came first (the message is then neither applied nor stored).
pub(crate) async fn apply_one(
    on: Where<'_>,
    msg: &OwnedMessage,
    count: &impl Fn(&str),
    shutdown: &Shutdown,
    given_up: &mut HashSet<TenantId>,
) -> bool {
    let Where {
        db,
        registry,
        handler,
        spec,
    } = on;
    let tenant = TenantId::from_topic(msg.topic());
    let unknown = |t: &TenantId| registry.state(t).is_none() && !registry.is_not_served(t);
    if let Some(t) = &tenant {
        if given_up.contains(t) && unknown(t) {
            // A trust waited for once and still unknown here: its later messages are kept
            // aside at once, not waited for one by one (each would hold the topics behind it).
            count("dead_letter");
            let why = "the trust is not known to this deployment";
            if apply::dead_letter(db, &spec.group, msg, why).await.is_ok() {
                return true;
            }
        } else {
            given_up.remove(t);
        }
    }
    if !wait_for_provisioning(registry, msg, shutdown).await {
        return false;
    }
    if let Some(t) = tenant.filter(|t| unknown(t)) {
        tracing::warn!(tenant = %t, topic = msg.topic(), "a trust this deployment does not know: its messages go to the platform's dead letters");
        given_up.insert(t);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match apply::process(db, registry, handler, &spec.group, msg).await {
            Ok(outcomes) => {
                outcomes.iter().for_each(|o| count(o.label()));
                return true;
            }
            Err(e) if attempt >= spec.max_attempts => {
                tracing::error!(topic = msg.topic(), offset = msg.offset(), error = %e, "event dead-lettered");
                count("dead_letter");
                if let Err(e2) = apply::dead_letter(db, &spec.group, msg, &e).await {
                    // Could not even record it: do not move past it.
                    tracing::error!(error = %e2, "dead-letter write failed; retrying the event");
                    attempt = 0;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                return true;
            }
            Err(e) => {
                tracing::warn!(topic = msg.topic(), offset = msg.offset(), attempt, error = %e, "event failed; retrying");
                tokio::select! {
                    _ = shutdown.wait() => return false,
                    _ = tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))) => {}
                }
            }
        }
    }
}

/// How long a message waits for its trust to be provisioned here before its attempts begin:
/// a trust this service is migrating, and a trust it has not heard of yet (its tenant record
/// is on its way; a topic of no trust at all must not hold the consumer up for long). Well
/// inside librdkafka's `max.poll.interval.ms` (300 s), past which the member leaves its group.
const PROVISIONING_WAIT: Duration = Duration::from_secs(120);
const UNKNOWN_TRUST_WAIT: Duration = Duration::from_secs(30);

/// A trust onboarded a moment ago: its events can arrive before this service has migrated the
/// trust's schema (the publisher learnt of the trust from the same tenants topic, a little
/// earlier). Such a message waits — spending no attempts, so it is not dead-lettered for
/// arriving early — while the trust is unknown, provisioning or failing to provision, for up
/// to [`PROVISIONING_WAIT`] ([`UNKNOWN_TRUST_WAIT`] while unknown). Returns `false` if
/// shutdown came first.
async fn wait_for_provisioning(
    registry: &TenantRegistry,
    msg: &OwnedMessage,
    shutdown: &Shutdown,
) -> bool {
    let Some(tenant) = TenantId::from_topic(msg.topic()) else {
        return true;
    };
    let started = std::time::Instant::now();
    let pending = || {
        if registry.is_not_served(&tenant) {
            return false;
        }
        match registry.state(&tenant) {
            None => started.elapsed() < UNKNOWN_TRUST_WAIT,
            Some(TenantState::Provisioning | TenantState::Failed(_)) => {
                started.elapsed() < PROVISIONING_WAIT
            }
            Some(_) => false,
        }
    };
    if pending() {
        tracing::info!(tenant = %tenant, topic = msg.topic(), "event for a trust not provisioned here yet; waiting for it");
    }
    while pending() {
        tokio::select! {
            _ = shutdown.wait() => return false,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    true
}
