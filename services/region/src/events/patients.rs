//! The trust's patients (`mpi.patient`): each version kept in the trust's projection, the
//! record placed in the regional index (by its verified NHS number), and — for a record that
//! is a person of its own — the matcher run against other trusts' records born the same day,
//! a score at the review threshold raising a proposal for a person to decide (never a link on
//! its own). Merges move the trust's rows (`tessera_patients::repoint`) and the index.
use super::date;
use crate::config::MatchingConfig;
use crate::store::index::{self, Linked};
use crate::store::projection::{self as p, PatientRow};
use crate::store::reviews;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::{DatabaseTransaction, DbErr};
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::mpi::v1 as mpi;

pub struct Patients {
    pub matching: MatchingConfig,
    pub model: tessera_matching::Model,
    /// The trusts this deployment serves (`None`: every trust): candidates come from these.
    pub served: Option<Vec<tessera_tenancy::TenantId>>,
}

/// `01`: the number is verified (UKCore-NHSNumberVerificationStatus).
const VERIFIED: &str = "01";

fn row(patient_id: &str, version: i64, d: Option<&mpi::Demographics>) -> PatientRow {
    let Some(d) = d else {
        return PatientRow {
            patient_id: patient_id.into(),
            version,
            ..PatientRow::default()
        };
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let name = d
        .names
        .iter()
        .find(|n| n.r#use == "official")
        .or(d.names.first());
    let home = d.addresses.iter().find(|a| a.period_end.is_empty());
    PatientRow {
        patient_id: patient_id.into(),
        version,
        nhs_number: opt(&d.nhs_number),
        nhs_verified: !d.nhs_number.is_empty() && d.nhs_number_verification_status == VERIFIED,
        family: name.and_then(|n| opt(&n.family)),
        given: name.map(|n| n.given.join(" ")).and_then(|g| opt(&g)),
        birth_date: date(&d.birth_date),
        sex: opt(&d.administrative_sex),
        postcode: home.and_then(|a| opt(&a.postal_code)),
        address: home.map(|a| a.lines.join(", ")).and_then(|a| opt(&a)),
        gp_practice: opt(&d.general_practice),
        restricted: d.restricted,
    }
}

impl Patients {
    /// Keeps the newest version and places the record in the index; a record alone is
    /// matched against other trusts'.
    async fn known(
        &self,
        txn: &DatabaseTransaction,
        tenant: &str,
        r: &PatientRow,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        if !p::patient(txn, r, at).await? {
            return Ok(()); // an older version, redelivered or overtaken
        }
        let verified = r.nhs_number.as_deref().filter(|_| r.nhs_verified);
        if index::link(txn, tenant, &r.patient_id, verified).await? == Linked::Alone {
            self.propose(txn, tenant, r).await?;
        }
        Ok(())
    }

    async fn propose(
        &self,
        txn: &DatabaseTransaction,
        tenant: &str,
        r: &PatientRow,
    ) -> Result<(), DbErr> {
        let Some(birth) = r.birth_date else {
            return Ok(());
        };
        let me = tessera_matching::Person::new(tessera_matching::PersonInput {
            given: r.given.as_deref(),
            family: r.family.as_deref(),
            birth_date: Some(birth.into()),
            sex: r.sex.as_deref(),
            address: r.address.as_deref(),
            postcode: r.postcode.as_deref(),
            national_id: r.nhs_number.as_deref(),
        });
        let found = reviews::candidates(
            txn,
            tenant,
            self.served.as_deref(),
            birth,
            self.matching.candidates_per_trust,
        )
        .await?;
        for c in found {
            let explained = self.model.explain(&me, &c.person);
            if explained.score < self.matching.review_bits {
                continue;
            }
            let fields = serde_json::to_value(&explained.fields).unwrap_or_default();
            reviews::raise(
                txn,
                (tenant, &r.patient_id),
                (&c.tenant, &c.patient_id),
                explained.score,
                fields,
            )
            .await?;
        }
        Ok(())
    }
}

impl Handler for Patients {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let at = event.time.unwrap_or_else(chrono::Utc::now);
            let tenant = event.tenant.as_str();
            let payload = event.payload.as_slice();
            let undecodable = |e| HandlerError::undecodable(event.ce_type.as_str(), e);
            // The records whose kept summary parts this event changes.
            let mut touched: Vec<String> = Vec::new();
            let done = match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientRegistered.v1" => {
                    let m = mpi::PatientRegistered::decode(payload).map_err(undecodable)?;
                    touched.push(m.patient_id.clone());
                    let r = row(&m.patient_id, m.version, m.demographics.as_ref());
                    self.known(txn, tenant, &r, at).await
                }
                "uk.nhs.tessera.mpi.PatientUpdated.v1" => {
                    let m = mpi::PatientUpdated::decode(payload).map_err(undecodable)?;
                    touched.push(m.patient_id.clone());
                    let r = row(&m.patient_id, m.version, m.demographics.as_ref());
                    self.known(txn, tenant, &r, at).await
                }
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::PatientMerged::decode(payload).map_err(undecodable)?;
                    touched.extend([m.merged_patient_id.clone(), m.survivor_patient_id.clone()]);
                    let survivor = &m.survivor_patient_id;
                    merge(txn, tenant, &m, at)
                        .await
                        .map_err(HandlerError::store)?;
                    let r = row(
                        survivor,
                        m.survivor_version,
                        m.survivor_demographics.as_ref(),
                    );
                    self.known(txn, tenant, &r, at).await
                }
                "uk.nhs.tessera.mpi.PatientUnmerged.v1" => {
                    let m = mpi::PatientUnmerged::decode(payload).map_err(undecodable)?;
                    touched.extend([m.merged_patient_id.clone(), m.survivor_patient_id.clone()]);
                    tessera_patients::repoint::undo(
                        txn,
                        &m.merge_id,
                        &m.merged_patient_id,
                        &p::FOLLOWS,
                    )
                    .await
                    .map_err(HandlerError::store)?;
                    index::unmerge(txn, &m.merge_id)
                        .await
                        .map_err(HandlerError::store)?;
                    p::merged_into(txn, &m.merged_patient_id, None, at)
                        .await
                        .map_err(HandlerError::store)?;
                    let restored = row(
                        &m.merged_patient_id,
                        m.restored_version,
                        m.restored_demographics.as_ref(),
                    );
                    self.known(txn, tenant, &restored, at).await?;
                    let survivor = row(
                        &m.survivor_patient_id,
                        m.survivor_version,
                        m.survivor_demographics.as_ref(),
                    );
                    self.known(txn, tenant, &survivor, at).await
                }
                _ => Ok(()),
            };
            done.map_err(HandlerError::store)?;
            crate::store::summary::refresh(txn, tenant, &touched)
                .await
                .map_err(HandlerError::store)?;
            p::heard(txn, "patient", at)
                .await
                .map_err(HandlerError::store)
        })
    }
}

/// The merged record's rows follow the survivor; it leaves the index, and the people it was
/// linked to join the survivor's.
async fn merge(
    txn: &DatabaseTransaction,
    tenant: &str,
    m: &mpi::PatientMerged,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let (merged, survivor) = (&m.merged_patient_id, &m.survivor_patient_id);
    tessera_patients::repoint::follow(txn, &m.merge_id, merged, survivor, &p::FOLLOWS).await?;
    p::merged_into(txn, merged, Some(survivor), at).await?;
    index::merge(txn, &m.merge_id, tenant, merged, survivor).await
}
