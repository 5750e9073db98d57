//! Referrals and their lifecycle. A referral to a consultant-led service belongs to an RTT
//! pathway: receiving it starts the clock (or continues the pathway it names); closing it
//! while the clock still runs needs the event that stops the clock. Every transition is kept
//! (`referral_transition`) and published.
use super::pathways::{clock_running, create_pathway, pathway_by_ppid, recompute};
use super::{publish, record_clock_event, rfc3339, stmt, types, NewClockEvent, StoreError};
use crate::domain::{
    ClockFlags, DomainError, EventKind, Ppid, Priority, ReferralId, ReferralState, Source, Ubrn,
};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
use tessera_proto::referrals::v1 as pb;
use tessera_tenancy::TenantId;
use uuid::Uuid;

#[derive(Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Referral {
    pub id: Uuid,
    pub patient_id: String,
    pub ubrn: Option<String>,
    pub source: String,
    pub referrer_code: String,
    pub referrer_org: String,
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub receiving_service: String,
    pub receiving_team: String,
    pub receiving_clinician: Option<String>,
    pub received_on: NaiveDate,
    pub attachments: serde_json::Value,
    pub pathway_id: Option<Uuid>,
    pub ppid: Option<String>,
    pub ppid_issuer: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(super) const SELECT: &str =
    "SELECT r.id, r.patient_id, r.ubrn, r.source, r.referrer_code, r.referrer_org,
       r.priority, r.specialty, r.treatment_function, r.receiving_service, r.receiving_team,
       r.receiving_clinician, r.received_on, r.attachments, r.pathway_id, p.ppid,
       p.issuer AS ppid_issuer, r.state, r.state_reason, r.version, r.created_by, r.created_at,
       r.updated_at
  FROM referral r LEFT JOIN pathway p ON p.id = r.pathway_id";

impl Referral {
    pub fn state(&self) -> Result<ReferralState, StoreError> {
        ReferralState::parse(&self.state).ok_or(StoreError::Conflict(
            crate::api::errors::STATE_UNREADABLE,
            format!("stored state {} is not a referral state", self.state),
        ))
    }
}

/// Which pathway a new referral belongs to.
#[derive(Debug, Clone)]
pub enum NewPathway {
    /// Not to a consultant-led service: no RTT clock.
    None,
    /// A new pathway (its PPID from the UBRN, the caller, or the trust's sequence).
    New(Option<Ppid>),
    /// A referral within an existing pathway (another consultant, same condition).
    Existing(Ppid),
    /// Transferred in from another provider: the PPID and the original clock start travel.
    TransferIn {
        ppid: Ppid,
        original_start: NaiveDate,
    },
}

#[derive(Clone)]
pub struct NewReferral {
    pub patient_id: PatientId,
    pub source: Source,
    pub ubrn: Option<Ubrn>,
    pub referrer_code: String,
    pub referrer_org: String,
    pub priority: Priority,
    pub specialty: String,
    pub treatment_function: String,
    pub receiving_service: String,
    pub receiving_team: String,
    pub receiving_clinician: Option<String>,
    pub received_on: NaiveDate,
    /// e-RS: when the patient converted the UBRN (the clock start); defaults to receipt.
    pub ubrn_converted_on: Option<NaiveDate>,
    pub attachments: serde_json::Value,
    pub pathway: NewPathway,
    pub created_by: String,
}

async fn one<C: ConnectionTrait>(db: &C, sql: &str, v: Vec<Value>) -> Result<Referral, StoreError> {
    Referral::find_by_statement(stmt(sql, v))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn referral<C: ConnectionTrait>(db: &C, id: ReferralId) -> Result<Referral, StoreError> {
    one(
        db,
        &format!("{SELECT} WHERE r.id = $1"),
        vec![id.as_uuid().into()],
    )
    .await
}

pub(super) async fn log_transition(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    r: &Referral,
    from: Option<ReferralState>,
    actor: &str,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    txn.execute(stmt(
        "INSERT INTO referral_transition (referral_id, from_state, to_state, reason, actor)
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            r.id.into(),
            from.map(|s| s.as_str().to_string()).into(),
            r.state.clone().into(),
            r.state_reason.clone().into(),
            actor.into(),
        ],
    ))
    .await?;
    let payload = pb::ReferralStateChanged {
        referral_id: r.id.to_string(),
        patient_id: r.patient_id.clone(),
        from_state: from.map(|s| s.as_str().to_string()).unwrap_or_default(),
        to_state: r.state.clone(),
        reason: r.state_reason.clone().unwrap_or_default(),
        changed_at: rfc3339(r.updated_at),
        changed_by: actor.to_string(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "referral",
        &r.patient_id,
        types::REFERRAL_STATE_CHANGED,
        payload,
        trace,
    )
    .await
}

pub(super) fn clock(kind: &str) -> Result<EventKind, StoreError> {
    Ok(EventKind::parse(kind, ClockFlags::default()).map_err(DomainError::from)?)
}

/// Receives a referral: its pathway (and clock start), the referral in AWAITING_TRIAGE, and
/// the events, in one transaction. A UBRN already received is a conflict naming the first.
pub async fn create_referral(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    n: NewReferral,
    trace: Option<&TraceContext>,
) -> Result<Referral, StoreError> {
    if let Some(u) = &n.ubrn {
        if let Some(row) = txn
            .query_one(stmt(
                "SELECT id FROM referral WHERE ubrn = $1",
                vec![u.as_str().into()],
            ))
            .await?
        {
            let id: Uuid = row.try_get("", "id")?;
            return Err(StoreError::Conflict(
                crate::api::errors::DUPLICATE_UBRN,
                format!("UBRN {} was received already, as referral {id}", u.as_str()),
            ));
        }
    }
    let id = Uuid::now_v7();
    // The clock: (pathway, the event that starts or continues it).
    let start_event = match n.source {
        Source::Ers => (
            "ubrn-converted",
            n.ubrn_converted_on.unwrap_or(n.received_on),
        ),
        _ => ("referral-received", n.received_on),
    };
    let (pathway_id, first_event): (Option<Uuid>, Option<(EventKind, NaiveDate)>) = match &n.pathway
    {
        NewPathway::None => (None, None),
        NewPathway::New(ppid) => {
            let ppid = ppid.clone().or_else(|| n.ubrn.as_ref().map(Ubrn::ppid));
            let p = create_pathway(
                txn,
                tenant,
                &n.patient_id,
                ppid,
                &n.specialty,
                &n.treatment_function,
                n.receiving_clinician.as_deref(),
                Some(&n.receiving_team),
            )
            .await?;
            (Some(p.id), Some((clock(start_event.0)?, start_event.1)))
        }
        NewPathway::Existing(ppid) => {
            let p = pathway_by_ppid(txn, ppid).await?.ok_or_else(|| {
                StoreError::Conflict(
                    crate::api::errors::PATHWAY_UNKNOWN,
                    format!("no pathway {} issued by {}", ppid.id, ppid.issuer),
                )
            })?;
            if p.patient_id != n.patient_id.to_string() {
                return Err(StoreError::Conflict(
                    crate::api::errors::PATHWAY_OTHER_PATIENT,
                    "that pathway belongs to another patient".into(),
                ));
            }
            // Within a running clock the referral continues it (20); after the last
            // period ended, a re-referral starts a new clock (rule 3).
            let ev = if clock_running(txn, p.id).await? {
                None
            } else {
                Some((clock("new-clock")?, n.received_on))
            };
            (Some(p.id), ev)
        }
        NewPathway::TransferIn {
            ppid,
            original_start,
        } => {
            let p = create_pathway(
                txn,
                tenant,
                &n.patient_id,
                Some(ppid.clone()),
                &n.specialty,
                &n.treatment_function,
                n.receiving_clinician.as_deref(),
                Some(&n.receiving_team),
            )
            .await?;
            let k = EventKind::parse(
                "transferred-in",
                ClockFlags {
                    original_start: Some(*original_start),
                    ..ClockFlags::default()
                },
            )
            .map_err(DomainError::from)?;
            (Some(p.id), Some((k, n.received_on)))
        }
    };
    txn.execute(stmt(
        "INSERT INTO referral (id, patient_id, ubrn, source, referrer_code, referrer_org, priority,
                               specialty, treatment_function, receiving_service, receiving_team,
                               receiving_clinician, received_on, attachments, pathway_id, state,
                               created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        vec![
            id.into(),
            n.patient_id.to_string().into(),
            n.ubrn.as_ref().map(|u| u.as_str().to_string()).into(),
            n.source.as_str().into(),
            n.referrer_code.clone().into(),
            n.referrer_org.clone().into(),
            n.priority.as_str().into(),
            n.specialty.clone().into(),
            n.treatment_function.clone().into(),
            n.receiving_service.clone().into(),
            n.receiving_team.clone().into(),
            n.receiving_clinician.clone().into(),
            n.received_on.into(),
            n.attachments.clone().into(),
            pathway_id.into(),
            ReferralState::AwaitingTriage.as_str().into(),
            n.created_by.clone().into(),
        ],
    ))
    .await?;
    match (pathway_id, first_event) {
        (Some(p), Some((kind, on_date))) => {
            record_clock_event(
                txn,
                tenant,
                NewClockEvent {
                    pathway_id: p.into(),
                    on_date,
                    kind,
                    source: format!("referral:{id}:received"),
                },
                trace,
            )
            .await?;
        }
        (Some(p), None) => recompute(txn, tenant, p, trace).await?,
        _ => {}
    }
    let r = referral(txn, id.into()).await?;
    let payload = pb::ReferralReceived {
        referral_id: r.id.to_string(),
        patient_id: r.patient_id.clone(),
        ubrn: r.ubrn.clone().unwrap_or_default(),
        source: r.source.clone(),
        priority: r.priority.clone(),
        specialty: r.specialty.clone(),
        treatment_function: r.treatment_function.clone(),
        receiving_team: r.receiving_team.clone(),
        receiving_clinician_user_id: r.receiving_clinician.clone().unwrap_or_default(),
        received_on: r.received_on.to_string(),
        pathway_id: r.pathway_id.map(|p| p.to_string()).unwrap_or_default(),
        ppid: r.ppid.clone().unwrap_or_default(),
        ppid_issuer: r.ppid_issuer.clone().unwrap_or_default(),
        state: r.state.clone(),
    }
    .encode_to_vec();
    publish(
        txn,
        tenant,
        "referral",
        &r.patient_id,
        types::REFERRAL_RECEIVED,
        payload,
        trace,
    )
    .await?;
    log_transition(txn, tenant, &r, None, &n.created_by, trace).await?;
    Ok(r)
}

// Debug shows ids, codes and states only: reasons and attachments may carry clinical words.
impl std::fmt::Debug for Referral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Referral")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("state", &self.state)
            .field("pathway_id", &self.pathway_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewReferral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewReferral")
            .field("patient_id", &self.patient_id)
            .field("source", &self.source)
            .field("specialty", &self.specialty)
            .field("receiving_team", &self.receiving_team)
            .finish_non_exhaustive()
    }
}
