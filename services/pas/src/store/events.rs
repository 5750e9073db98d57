//! What this service tells the others, through the outbox in the transaction that makes the
//! change (keyed by patient id; Protobuf in `proto/tessera/pas/v1/`):
//! - `tessera.<ods>.pas.encounter`: `PatientAdmitted` (the access service gives the ward's
//!   team and the consultant a relationship; the referrals service stops the clock for an
//!   admission for treatment), `PatientTransferred` (the new ward's team too),
//!   `EpisodeChanged`, `PatientDischarged` (relationships end after the trust's grace
//!   period), `EncounterActionCancelled`. A cancelled discharge publishes `PatientAdmitted`
//!   again: the patient is in hospital, and the relationships with them stand again;
//!   `DecisionToAdmit` when a patient on an RTT pathway joins the admitted waiting list (the
//!   referrals service records the decision to treat; the clock runs on).
//! - `tessera.<ods>.pas.activity`: `ActivityRecorded`, `ActivityCoded`, `ActivityWithdrawn`.
use super::activity::Activity;
use super::{stmt, StoreError};
use crate::domain::SpellId;
use chrono::{DateTime, SecondsFormat, Utc};
use prost::Message as _;
use sea_orm::{DatabaseTransaction, FromQueryResult};
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue, OutgoingEvent};
use tessera_proto::pas::v1 as pb;
use tessera_tenancy::TenantId;
use uuid::Uuid;

pub mod types {
    pub const ADMITTED: &str = "uk.nhs.tessera.pas.PatientAdmitted.v1";
    pub const TRANSFERRED: &str = "uk.nhs.tessera.pas.PatientTransferred.v1";
    pub const EPISODE_CHANGED: &str = "uk.nhs.tessera.pas.EpisodeChanged.v1";
    pub const DISCHARGED: &str = "uk.nhs.tessera.pas.PatientDischarged.v1";
    pub const CANCELLED: &str = "uk.nhs.tessera.pas.EncounterActionCancelled.v1";
    pub const DECISION_TO_ADMIT: &str = "uk.nhs.tessera.pas.DecisionToAdmit.v1";
    pub const RECORDED: &str = "uk.nhs.tessera.pas.ActivityRecorded.v1";
    pub const CODED: &str = "uk.nhs.tessera.pas.ActivityCoded.v1";
    pub const WITHDRAWN: &str = "uk.nhs.tessera.pas.ActivityWithdrawn.v1";
}

/// Where and under which trace an event goes.
#[derive(Clone)]
pub struct Publish {
    pub tenant: TenantId,
    pub trace: Option<TraceContext>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Publish {
    async fn send(
        &self,
        txn: &DatabaseTransaction,
        stream: &str,
        ce_type: &str,
        patient_id: &str,
        payload: Vec<u8>,
    ) -> Result<(), StoreError> {
        enqueue(
            txn,
            OutgoingEvent {
                topic: self.tenant.topic("pas", stream),
                key: patient_id.to_string(),
                ce_type: ce_type.into(),
                source: "/tessera/pas".into(),
                subject: Some(patient_id.to_string()),
                payload,
                trace: self.trace.clone(),
            },
        )
        .await?;
        Ok(())
    }
}

#[derive(FromQueryResult)]
struct Now {
    patient_id: String,
    team: String,
    ward_code: String,
    bed_code: Option<String>,
    consultant: String,
    admitted_at: DateTime<Utc>,
    ppid: Option<String>,
    ppid_issuer: Option<String>,
    admission_purpose: Option<String>,
}

/// The spell as it is now: its ward and team, its bed, its current consultant.
async fn now_of(txn: &DatabaseTransaction, id: Uuid) -> Result<Now, StoreError> {
    Now::find_by_statement(stmt(
        "SELECT s.patient_id, w.team, w.code AS ward_code, b.code AS bed_code,
                coalesce((SELECT e.consultant FROM episode e WHERE e.spell_id = s.id AND e.cancelled_at IS NULL
                           ORDER BY e.seq DESC LIMIT 1), '') AS consultant,
                s.admitted_at, s.ppid, s.ppid_issuer, s.admission_purpose
           FROM spell s JOIN ward w ON w.id = s.ward_id
           LEFT JOIN bed_stay t ON t.spell_id = s.id AND t.to_at IS NULL AND t.cancelled_at IS NULL
           LEFT JOIN bed b ON b.id = t.bed_id
          WHERE s.id = $1",
        vec![id.into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn admitted(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
) -> Result<(), StoreError> {
    let n = now_of(txn, id.as_uuid()).await?;
    let m = pb::PatientAdmitted {
        encounter_id: id.to_string(),
        patient_id: n.patient_id.clone(),
        ward_team: n.team,
        consultant_user_id: n.consultant,
        admitted_at: time(n.admitted_at),
        ppid: n.ppid.unwrap_or_default(),
        ppid_issuer: n.ppid_issuer.unwrap_or_default(),
        admission_purpose: n.admission_purpose.unwrap_or_default(),
    };
    p.send(
        txn,
        "encounter",
        types::ADMITTED,
        &n.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn transferred(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = now_of(txn, id.as_uuid()).await?;
    let m = pb::PatientTransferred {
        encounter_id: id.to_string(),
        patient_id: n.patient_id.clone(),
        ward_team: n.team,
        ward_code: n.ward_code,
        bed_code: n.bed_code.unwrap_or_default(),
        transferred_at: time(at),
    };
    p.send(
        txn,
        "encounter",
        types::TRANSFERRED,
        &n.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn episode_changed(
    txn: &DatabaseTransaction,
    p: &Publish,
    id: SpellId,
    ended: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    #[derive(FromQueryResult)]
    struct Open {
        id: Uuid,
        consultant: String,
        treatment_function: String,
        patient_id: String,
    }
    let e = Open::find_by_statement(stmt(
        "SELECT e.id, e.consultant, e.treatment_function, s.patient_id FROM episode e JOIN spell s ON s.id = e.spell_id
          WHERE e.spell_id = $1 AND e.ended_at IS NULL AND e.cancelled_at IS NULL",
        vec![id.as_uuid().into()],
    ))
    .one(txn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let m = pb::EpisodeChanged {
        encounter_id: id.to_string(),
        patient_id: e.patient_id.clone(),
        ended_episode_id: ended.to_string(),
        episode_id: e.id.to_string(),
        consultant_user_id: e.consultant,
        treatment_function: e.treatment_function,
        changed_at: time(at),
    };
    p.send(
        txn,
        "encounter",
        types::EPISODE_CHANGED,
        &e.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn discharged(
    txn: &DatabaseTransaction,
    p: &Publish,
    s: &super::Spell,
) -> Result<(), StoreError> {
    let m = pb::PatientDischarged {
        encounter_id: s.id.to_string(),
        patient_id: s.patient_id.clone(),
        discharged_at: s.discharged_at.map(time).unwrap_or_default(),
        discharge_method: s.discharge_method.clone().unwrap_or_default(),
        discharge_destination: s.discharge_destination.clone().unwrap_or_default(),
    };
    p.send(
        txn,
        "encounter",
        types::DISCHARGED,
        &s.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn cancelled(
    txn: &DatabaseTransaction,
    p: &Publish,
    s: &super::Spell,
    kind: &str,
    reason: &str,
) -> Result<(), StoreError> {
    let m = pb::EncounterActionCancelled {
        encounter_id: s.id.to_string(),
        patient_id: s.patient_id.clone(),
        cancelled: kind.into(),
        cancelled_at: time(Utc::now()),
        reason: reason.into(),
    };
    p.send(
        txn,
        "encounter",
        types::CANCELLED,
        &s.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn recorded(
    txn: &DatabaseTransaction,
    p: &Publish,
    a: &Activity,
) -> Result<(), StoreError> {
    let m = pb::ActivityRecorded {
        activity_id: a.id.to_string(),
        patient_id: a.patient_id.clone(),
        kind: a.kind.clone(),
        source_id: a.source_id.to_string(),
        spell_id: a.spell_id.map(|s| s.to_string()).unwrap_or_default(),
        treatment_function: a.treatment_function.clone(),
        consultant_user_id: a.consultant.clone(),
        start_date: a.start_date.to_string(),
        end_date: a.end_date.to_string(),
        ppid: a.ppid.clone().unwrap_or_default(),
        ppid_issuer: a.ppid_issuer.clone().unwrap_or_default(),
        commissioner: a.commissioner.clone().unwrap_or_default(),
    };
    p.send(
        txn,
        "activity",
        types::RECORDED,
        &a.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn coded(txn: &DatabaseTransaction, p: &Publish, a: &Activity) -> Result<(), StoreError> {
    let m = pb::ActivityCoded {
        activity_id: a.id.to_string(),
        patient_id: a.patient_id.clone(),
        diagnoses: a.diagnoses.clone(),
        procedures: a.procedures.clone(),
        coded_at: a.coded_at.map(time).unwrap_or_default(),
    };
    p.send(
        txn,
        "activity",
        types::CODED,
        &a.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn withdrawn(
    txn: &DatabaseTransaction,
    p: &Publish,
    a: &Activity,
    reason: &str,
) -> Result<(), StoreError> {
    let m = pb::ActivityWithdrawn {
        activity_id: a.id.to_string(),
        patient_id: a.patient_id.clone(),
        reason: reason.into(),
        withdrawn_at: a.withdrawn_at.map(time).unwrap_or_default(),
    };
    p.send(
        txn,
        "activity",
        types::WITHDRAWN,
        &a.patient_id,
        m.encode_to_vec(),
    )
    .await
}

pub async fn decision_to_admit(
    txn: &DatabaseTransaction,
    p: &Publish,
    e: &super::waiting::Entry,
) -> Result<(), StoreError> {
    let m = pb::DecisionToAdmit {
        waiting_list_entry_id: e.id.to_string(),
        patient_id: e.patient_id.clone(),
        ppid: e.ppid.clone().unwrap_or_default(),
        ppid_issuer: e.ppid_issuer.clone().unwrap_or_default(),
        decided_on: e.decided_on.to_string(),
    };
    p.send(
        txn,
        "encounter",
        types::DECISION_TO_ADMIT,
        &e.patient_id,
        m.encode_to_vec(),
    )
    .await
}
