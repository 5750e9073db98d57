//! PAS's encounters (`pas.encounter`): admissions and consultant changes say who is
//! responsible for a spell; a discharge gets a draft discharge summary in the trust's
//! wording, addressed to the patient's GP practice, for that consultant to complete and
//! sign — once per discharge. A cancelled discharge leaves its draft for the consultant to
//! mark entered in error (it may already hold their words).
use super::{drafted, Trust};
use crate::domain::document::ContextKind;
use crate::domain::Context;
use crate::store::letters::{self, Draft};
use crate::store::stmt;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use std::collections::BTreeMap;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::pas::v1 as pb;

pub struct Discharges;

async fn responsible(
    txn: &DatabaseTransaction,
    spell: uuid::Uuid,
    patient: &str,
    consultant: &str,
) -> Result<(), HandlerError> {
    txn.execute(stmt(
        "INSERT INTO spell_consultant (spell_id, patient_id, consultant) VALUES ($1, $2, $3)
         ON CONFLICT (spell_id) DO UPDATE SET consultant = EXCLUDED.consultant",
        vec![spell.into(), patient.into(), consultant.into()],
    ))
    .await?;
    Ok(())
}

impl Handler for Discharges {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let payload = event.payload.as_slice();
            let undecodable = |e| HandlerError::undecodable(event.ce_type.as_str(), e);
            match event.ce_type.as_str() {
                "uk.nhs.tessera.pas.PatientAdmitted.v1" => {
                    let m = pb::PatientAdmitted::decode(payload).map_err(undecodable)?;
                    let (_, spell) = super::ids(&m.patient_id, &m.encounter_id)?;
                    responsible(txn, spell, &m.patient_id, &m.consultant_user_id).await
                }
                "uk.nhs.tessera.pas.EpisodeChanged.v1" => {
                    let m = pb::EpisodeChanged::decode(payload).map_err(undecodable)?;
                    let (_, spell) = super::ids(&m.patient_id, &m.encounter_id)?;
                    responsible(txn, spell, &m.patient_id, &m.consultant_user_id).await
                }
                "uk.nhs.tessera.pas.PatientDischarged.v1" => {
                    let m = pb::PatientDischarged::decode(payload).map_err(undecodable)?;
                    let (patient, spell) = super::ids(&m.patient_id, &m.encounter_id)?;
                    let row = txn
                        .query_one(stmt(
                            "SELECT consultant FROM spell_consultant WHERE spell_id = $1",
                            vec![spell.into()],
                        ))
                        .await?;
                    let Some(consultant) = row
                        .map(|r| r.try_get::<String>("", "consultant"))
                        .transpose()?
                    else {
                        // Admitted before this service listened: no one to write it.
                        return Ok(());
                    };
                    let date = m.discharged_at.get(..10).unwrap_or_default().to_string();
                    let values = BTreeMap::from([
                        ("date", date),
                        ("discharge_method", m.discharge_method.clone()),
                        ("discharge_destination", m.discharge_destination.clone()),
                        ("clinician", consultant.clone()),
                    ]);
                    let draft = Draft {
                        kind: "discharge-summary",
                        doc_type: ("373942005", "Discharge summary"),
                        patient_id: patient,
                        context: Context {
                            kind: ContextKind::Encounter,
                            id: spell,
                        },
                        author: consultant,
                        source: format!("discharge:{spell}:{}", m.discharged_at),
                        values,
                    };
                    let t = Trust::of(event);
                    let made = letters::draft(txn, t.ods(), draft, chrono::Utc::now()).await;
                    drafted(txn, &t, made).await
                }
                _ => Ok(()),
            }
        })
    }
}
