//! A document's content, on request, across trusts: the signed version's text as its trust
//! shared it (`clinical-docs.shared`), shown to the viewer under the summary's rules — a
//! relationship in the viewer's own trust; for another trust's document, the patient's consent
//! there naming the viewer's trust; the document's seal always — and audited in the viewer's
//! trust (the request's record) and, for another trust's, in that trust too, in the same
//! transaction, permitted or refused.
use super::viewer::{consent_of, in_schema, shared_record, Viewer};
use super::{audited, Fail};
use crate::api::Authorized;
use crate::store::{index, projection};
use chrono::Utc;
use sea_orm::TransactionTrait;
use tessera_access::decision::{Seal, SharingConsent};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use tessera_patients::PatientId;
use tessera_tenancy::TenantId;
use uuid::Uuid;

/// The audit action in the trust whose document was read by another trust's user.
pub const SHARED_ACTION: &str = "region.document.shared";

/// The content, with its trust and version.
pub struct Content {
    pub trust: String,
    pub version: i32,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Found and permitted, or found and refused (the refusal is recorded in both trusts, so it
/// commits: the request's own record says refused).
pub enum Answer {
    Shown(Content),
    Refused(ApiError),
}

pub async fn content(
    auth: &Authorized,
    patient: PatientId,
    document: Uuid,
) -> Result<Answer, ApiError> {
    let identity = auth.identity.clone();
    let activity = auth.state.config.roles.summary_activity.clone();
    let tenant = auth.tenant.clone();
    let registry = auth.state.gate.registry.clone();
    let trace = auth.trace.clone();
    let pid = patient.to_string();
    audited(auth, Some(pid.clone()), move |txn| {
        Box::pin(async move {
            super::known(txn, &patient).await?;
            let now = Utc::now();
            let schema = tenant.schema();
            let view = tessera_access::projection::load_in(
                txn,
                &schema,
                &identity,
                std::slice::from_ref(&pid),
                now,
            )
            .await
            .map_err(|e| ApiError::database(&e))?;
            let viewer = Viewer {
                identity,
                activity,
                teams: view.teams.clone(),
                mine: view.patient(&pid),
                now,
                trace,
            };
            let own = viewer.decide(&tenant, SharingConsent::None, &Seal::None);
            if !own.permit {
                return Err(Fail::denied(
                    &pid,
                    &own,
                    "no legitimate relationship with this patient in your trust",
                ));
            }
            // The viewer's own trust first, then each trust holding a record of the person.
            let mut places: Vec<(TenantId, Vec<String>)> =
                vec![(tenant.clone(), vec![pid.clone()])];
            if let Some(person) = index::person_of(txn, tenant.as_str(), &pid)
                .await
                .map_err(|e| ApiError::database(&e))?
            {
                for m in index::members(txn, person)
                    .await
                    .map_err(|e| ApiError::database(&e))?
                {
                    let Ok(t) = TenantId::parse(&m.tenant) else {
                        continue;
                    };
                    if t == tenant || !registry.is_ready(&t) {
                        continue;
                    }
                    match places.iter_mut().find(|(x, _)| x == &t) {
                        Some((_, ids)) => ids.push(m.patient_id),
                        None => places.push((t, vec![m.patient_id])),
                    }
                }
            }
            let seal_item = format!("document:{document}");
            for (trust, ids) in places {
                let sp = txn.begin().await.map_err(|e| ApiError::database(&e))?;
                in_schema(&sp, &trust)
                    .await
                    .map_err(|e| ApiError::database(&e))?;
                let Some(found) = projection::shared(&sp, document, &ids)
                    .await
                    .map_err(|e| ApiError::database(&e))?
                else {
                    sp.rollback().await.map_err(|e| ApiError::database(&e))?;
                    continue;
                };
                let outcome = if trust == tenant {
                    viewer.decide(&trust, SharingConsent::None, viewer.mine.seal(&seal_item))
                } else {
                    let there = tessera_access::projection::load_in(
                        &sp,
                        &trust.schema(),
                        &viewer.identity,
                        &ids,
                        now,
                    )
                    .await
                    .map_err(|e| ApiError::database(&e))?;
                    let (consent, access) = consent_of(&there, &ids);
                    let o = viewer.decide(&trust, consent, access.seal(&seal_item));
                    let record = shared_record(
                        &viewer,
                        SHARED_ACTION,
                        &trust,
                        &found.patient_id,
                        &o,
                        i32::from(o.permit),
                        there.age_ms,
                    );
                    tessera_audit::write(&sp, &record)
                        .await
                        .map_err(|e| ApiError::internal(&e))?;
                    o
                };
                sp.commit().await.map_err(|e| ApiError::database(&e))?;
                in_schema(txn, &tenant)
                    .await
                    .map_err(|e| ApiError::database(&e))?;
                if !outcome.permit {
                    let refused = Fail::denied(
                        &pid,
                        &outcome,
                        "the patient's consent or the document's seal does not let you read it",
                    );
                    let ending = Ending::from_error(Some(pid.clone()), &refused.error);
                    return Ok((Answer::Refused(refused.error), ending));
                }
                let ending =
                    Ending::decided(&pid, &outcome, Some(view.age_ms.unwrap_or(-1)), 200, 1);
                let shown = Content {
                    trust: trust.as_str().to_string(),
                    version: found.version,
                    content_type: found.content_type,
                    bytes: found.content,
                };
                return Ok((Answer::Shown(shown), ending));
            }
            in_schema(txn, &tenant)
                .await
                .map_err(|e| ApiError::database(&e))?;
            Err(Fail {
                error: ApiError::new(
                    tessera_edge::codes::NOT_FOUND,
                    "no signed document with this id in this patient's regional record",
                ),
                patient_id: Some(pid),
            })
        })
    })
    .await
}
