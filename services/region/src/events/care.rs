//! A trust's care, projected for the summary: referrals (`referrals.referral`), RTT clocks
//! (`referrals.rtt`), appointments (`scheduling.appointment`), hospital spells
//! (`pas.encounter`) and documents (`clinical-docs.document`). Every event moves the trust's
//! freshness for its stream; types this version does not know change nothing else.
use super::{date, time, uuid};
use crate::store::projection as p;
use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::clinicaldocs::v1 as docs;
use tessera_proto::pas::v1 as pas;
use tessera_proto::referrals::v1 as referrals;
use tessera_proto::scheduling::v1 as scheduling;

/// The consumer of one of a trust's streams (its name: the freshness it moves).
pub struct Care(pub &'static str);

fn decode<M: prost::Message + Default>(e: &InboundEvent) -> Result<M, HandlerError> {
    M::decode(e.payload.as_slice())
        .map_err(|err| HandlerError::undecodable(e.ce_type.as_str(), err))
}

impl Handler for Care {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let at = event.time.unwrap_or_else(chrono::Utc::now);
            apply(txn, event, at).await?;
            p::heard(txn, self.0, at).await.map_err(HandlerError::store)
        })
    }
}

async fn apply(
    txn: &DatabaseTransaction,
    e: &InboundEvent,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), HandlerError> {
    let name = e
        .ce_type
        .strip_prefix("uk.nhs.tessera.")
        .unwrap_or_default();
    let mut touched: Option<String> = None;
    let done = match name {
        "referrals.ReferralReceived.v1" => {
            let m: referrals::ReferralReceived = decode(e)?;
            touched = Some(m.patient_id.clone());
            let row = p::ReferralRow {
                id: uuid("referral_id", &m.referral_id)?,
                patient_id: m.patient_id,
                ubrn: m.ubrn,
                priority: m.priority,
                specialty: m.specialty,
                treatment_function: m.treatment_function,
                team: m.receiving_team,
                state: if m.state.is_empty() {
                    "AWAITING_TRIAGE".into()
                } else {
                    m.state
                },
                received_on: date(&m.received_on),
                // A referral outside any pathway names none.
                pathway_id: uuid::Uuid::parse_str(&m.pathway_id).ok(),
            };
            p::referral(txn, &row, at).await
        }
        "referrals.ReferralStateChanged.v1" => {
            let m: referrals::ReferralStateChanged = decode(e)?;
            touched = Some(m.patient_id.clone());
            p::referral_state(txn, uuid("referral_id", &m.referral_id)?, &m.to_state, at).await
        }
        "referrals.RttPathwayChanged.v1" => {
            let m: referrals::RttPathwayChanged = decode(e)?;
            touched = Some(m.patient_id.clone());
            // The newest period is the clock as it stands.
            let last = m.periods.last();
            let row = p::PathwayRow {
                id: uuid("pathway_id", &m.pathway_id)?,
                patient_id: m.patient_id,
                treatment_function: m.treatment_function,
                // The wire's period states (`open`, `stopped`, `nullified`,
                // `transferred-out`) as the summary says them: an open period's clock runs.
                clock: last
                    .map(|x| match x.state.as_str() {
                        "open" => "running".to_string(),
                        other => other.to_string(),
                    })
                    .unwrap_or_else(|| "none".into()),
                clock_start: last.and_then(|x| date(&x.start_date)),
                clock_stop: last.and_then(|x| date(&x.end_date)),
            };
            p::pathway(txn, &row, at).await
        }
        "scheduling.AppointmentBooked.v1" => {
            let m: scheduling::AppointmentBooked = decode(e)?;
            touched = Some(m.patient_id.clone());
            let row = p::AppointmentRow {
                id: uuid("appointment_id", &m.appointment_id)?,
                patient_id: m.patient_id,
                starts_at: time(&m.starts_at),
                ends_at: time(&m.ends_at),
                treatment_function: m.treatment_function,
                team: m.team,
                clinician: m.clinician_user_id,
                referral_id: m.referral_id,
            };
            p::appointment_booked(txn, &row, at).await
        }
        "scheduling.AppointmentClosed.v1" => {
            let m: scheduling::AppointmentClosed = decode(e)?;
            touched = Some(m.patient_id.clone());
            let status = if m.outcome.is_empty() {
                "closed"
            } else {
                m.outcome.as_str()
            };
            p::appointment_closed(txn, uuid("appointment_id", &m.appointment_id)?, status, at).await
        }
        "pas.PatientAdmitted.v1" => {
            let m: pas::PatientAdmitted = decode(e)?;
            touched = Some(m.patient_id.clone());
            let row = p::AdmissionRow {
                id: uuid("encounter_id", &m.encounter_id)?,
                patient_id: m.patient_id,
                admitted_at: time(&m.admitted_at),
                ward_team: m.ward_team,
                consultant: m.consultant_user_id,
                purpose: m.admission_purpose,
            };
            p::admitted(txn, &row, at).await
        }
        "pas.PatientTransferred.v1" => {
            let m: pas::PatientTransferred = decode(e)?;
            touched = Some(m.patient_id.clone());
            let id = uuid("encounter_id", &m.encounter_id)?;
            p::transferred(txn, id, &m.ward_team, &m.ward_code, at).await
        }
        "pas.PatientDischarged.v1" => {
            let m: pas::PatientDischarged = decode(e)?;
            touched = Some(m.patient_id.clone());
            let id = uuid("encounter_id", &m.encounter_id)?;
            p::discharged(txn, id, time(&m.discharged_at), &m.discharge_method, at).await
        }
        "pas.EncounterActionCancelled.v1" => {
            let m: pas::EncounterActionCancelled = decode(e)?;
            touched = Some(m.patient_id.clone());
            p::cancelled(
                txn,
                uuid("encounter_id", &m.encounter_id)?,
                &m.cancelled,
                at,
            )
            .await
        }
        "clinicaldocs.DocumentCreated.v1" => {
            let m: docs::DocumentCreated = decode(e)?;
            touched = Some(m.patient_id.clone());
            let row = p::DocumentRow {
                id: uuid("document_id", &m.document_id)?,
                patient_id: m.patient_id,
                type_code: m.type_code,
                title: m.title,
                author: m.author_user_id,
                created_at: time(&m.created_at).unwrap_or(at),
            };
            p::document_created(txn, &row, at).await
        }
        "clinicaldocs.VersionAdded.v1" => {
            let m: docs::VersionAdded = decode(e)?;
            touched = Some(m.patient_id.clone());
            let id = uuid("document_id", &m.document_id)?;
            p::document_version(txn, id, m.version, &m.status, &m.title, at).await
        }
        "clinicaldocs.DocumentShared.v1" => {
            let m: docs::DocumentShared = decode(e)?;
            touched = Some(m.patient_id.clone());
            let id = uuid("document_id", &m.document_id)?;
            if m.withdrawn {
                p::content_withdrawn(txn, id).await
            } else {
                let row = p::ContentRow {
                    document_id: id,
                    patient_id: m.patient_id,
                    version: m.version,
                    content_type: m.content_type,
                    content: m.content,
                    sha256: m.sha256,
                };
                p::content(txn, &row, at).await
            }
        }
        "clinicaldocs.DocumentSigned.v1" => {
            let m: docs::DocumentSigned = decode(e)?;
            touched = Some(m.patient_id.clone());
            p::document_signed(
                txn,
                uuid("document_id", &m.document_id)?,
                time(&m.signed_at),
                at,
            )
            .await
        }
        // Accepted/closed pairs repeat what the state changes say; heartbeats, letters and
        // types added later change nothing here.
        _ => Ok(()),
    };
    done.map_err(HandlerError::store)?;
    match touched {
        Some(patient) => crate::store::summary::refresh(txn, e.tenant.as_str(), &[patient])
            .await
            .map_err(HandlerError::store),
        None => Ok(()),
    }
}
