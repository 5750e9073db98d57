//! A referral's lifecycle: each transition checked against the e-RS table, kept in
//! `referral_transition` and published; closing a referral whose clock still runs needs the
//! event that stops it.
use super::pathways::{assign, clock_running, recompute};
use super::referrals::{clock, log_transition, referral};
use super::{
    publish, record_clock_event, rfc3339, stmt, types, NewClockEvent, Referral, StoreError,
};
use crate::domain::{EventKind, ReferralId, ReferralState};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use tessera_bootstrap::TraceContext;
use tessera_proto::referrals::v1 as pb;
use tessera_tenancy::TenantId;
use uuid::Uuid;

/// A requested move through the lifecycle.
#[derive(Clone)]
pub struct TransitionRequest {
    pub to: ReferralState,
    pub reason: Option<String>,
    /// On acceptance: the team and clinician triage chose (default: as referred).
    pub team: Option<String>,
    pub clinician: Option<String>,
    /// A clock event recorded in the same transaction (how the clock stops on closure).
    pub clock_event: Option<(EventKind, NaiveDate)>,
    /// The version the caller last saw (optimistic concurrency), if given.
    pub expected_version: Option<i64>,
    pub actor: String,
}

/// Moves a referral, under a row lock: an illegal transition is refused with both states
/// named; a closure that would leave the pathway's clock running with no open referral on it
/// is refused unless it records how the clock stops (a rejection returns the patient to the
/// referrer: 34, on the day).
pub async fn transition(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: ReferralId,
    t: TransitionRequest,
    today: NaiveDate,
    trace: Option<&TraceContext>,
) -> Result<Referral, StoreError> {
    txn.execute(stmt(
        "SELECT 1 FROM referral WHERE id = $1 FOR UPDATE",
        vec![id.as_uuid().into()],
    ))
    .await?;
    let current = referral(txn, id).await?;
    if let Some(v) = t.expected_version {
        if v != current.version {
            return Err(StoreError::Conflict(
                crate::api::errors::VERSION,
                format!(
                    "the referral changed (version {} now, {v} expected): read it again",
                    current.version
                ),
            ));
        }
    }
    let from = current.state()?;
    let to = from.to(t.to)?;
    if let Some(p) = current.pathway_id {
        if let Some((kind, on_date)) = t.clock_event {
            record_clock_event(
                txn,
                tenant,
                NewClockEvent {
                    pathway_id: p.into(),
                    on_date,
                    kind,
                    source: format!("api:{}", t.actor),
                },
                trace,
            )
            .await?;
        }
        if to.is_closed()
            && clock_running(txn, p).await?
            && !others_open(txn, p, id.as_uuid()).await?
        {
            if to == ReferralState::Rejected {
                record_clock_event(
                    txn,
                    tenant,
                    NewClockEvent {
                        pathway_id: p.into(),
                        on_date: today,
                        kind: clock("returned-to-primary-care")?,
                        source: format!("referral:{id}:rejected"),
                    },
                    trace,
                )
                .await?;
            } else {
                return Err(StoreError::Conflict(
                    crate::api::errors::CLOCK_RUNNING,
                    format!(
                        "the pathway's clock is still running: record how it stops \
                         (clock_event: treated, admitted-for-treatment, active-monitoring, \
                         decision-not-to-treat, returned-to-primary-care, declined, died, \
                         transferred-out) before or with {to}"
                    ),
                ));
            }
        }
    } else if t.clock_event.is_some() {
        return Err(StoreError::Conflict(
            crate::api::errors::NO_PATHWAY,
            "this referral is not on an RTT pathway".into(),
        ));
    }
    let (team, clinician) = if to == ReferralState::Accepted {
        (
            t.team
                .clone()
                .unwrap_or_else(|| current.receiving_team.clone()),
            t.clinician.clone().or(current.receiving_clinician.clone()),
        )
    } else {
        (
            current.receiving_team.clone(),
            current.receiving_clinician.clone(),
        )
    };
    txn.execute(stmt(
        "UPDATE referral SET state = $2, state_reason = $3, receiving_team = $4,
                receiving_clinician = $5, version = version + 1, updated_at = now()
          WHERE id = $1",
        vec![
            id.as_uuid().into(),
            to.as_str().into(),
            t.reason.clone().into(),
            team.clone().into(),
            clinician.clone().into(),
        ],
    ))
    .await?;
    if let (Some(p), ReferralState::Accepted) = (current.pathway_id, to) {
        assign(txn, p, clinician.as_deref(), &team).await?;
        recompute(txn, tenant, p, trace).await?;
    }
    let r = referral(txn, id).await?;
    log_transition(txn, tenant, &r, Some(from), &t.actor, trace).await?;
    if to == ReferralState::Accepted {
        let payload = pb::ReferralAccepted {
            referral_id: r.id.to_string(),
            patient_id: r.patient_id.clone(),
            team: r.receiving_team.clone(),
            clinician_user_id: r.receiving_clinician.clone().unwrap_or_default(),
            accepted_at: rfc3339(r.updated_at),
        }
        .encode_to_vec();
        publish(
            txn,
            tenant,
            "referral",
            &r.patient_id,
            types::REFERRAL_ACCEPTED,
            payload,
            trace,
        )
        .await?;
    }
    if to.is_closed() {
        let payload = pb::ReferralClosed {
            referral_id: r.id.to_string(),
            patient_id: r.patient_id.clone(),
            closed_at: rfc3339(r.updated_at),
            reason: to.as_str().to_ascii_lowercase(),
        }
        .encode_to_vec();
        publish(
            txn,
            tenant,
            "referral",
            &r.patient_id,
            types::REFERRAL_CLOSED,
            payload,
            trace,
        )
        .await?;
    }
    Ok(r)
}

/// Another referral on the pathway is still open (it keeps the pathway's clock its own).
async fn others_open(
    txn: &DatabaseTransaction,
    pathway: Uuid,
    except: Uuid,
) -> Result<bool, StoreError> {
    Ok(txn
        .query_one(stmt(
            "SELECT 1 AS n FROM referral WHERE pathway_id = $1 AND id <> $2
                AND state NOT IN ('REJECTED', 'CANCELLED', 'COMPLETED', 'DISCHARGED')",
            vec![pathway.into(), except.into()],
        ))
        .await?
        .is_some())
}

#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Transition {
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

pub async fn transitions<C: ConnectionTrait>(
    db: &C,
    id: ReferralId,
) -> Result<Vec<Transition>, StoreError> {
    Ok(Transition::find_by_statement(stmt(
        "SELECT from_state, to_state, reason, actor, at FROM referral_transition
          WHERE referral_id = $1 ORDER BY id",
        vec![id.as_uuid().into()],
    ))
    .all(db)
    .await?)
}

impl std::fmt::Debug for TransitionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransitionRequest")
            .field("to", &self.to)
            .field("reason", &self.reason.as_ref().map(|_| "…"))
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Transition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transition")
            .field("from_state", &self.from_state)
            .field("to_state", &self.to_state)
            .field("actor", &self.actor)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}
