//! A document's content, on request, across trusts: the signed version's text as its trust
//! shared it (`clinical-docs.shared`), shown to the viewer under the summary's rules — a
//! relationship in the viewer's own trust; for another trust's document, the patient's consent
//! there naming the viewer's trust; the document's seal always — and audited in the viewer's
//! trust (the request's record) and, for another trust's, in that trust too, in the same
//! transaction, permitted or refused.
use super::viewer::{consent_of, holders, in_schema, shared_record, Viewer};
use super::{audited, Fail};
use crate::api::Authorized;
use crate::store::projection;
use sea_orm::TransactionTrait;
use tessera_access::decision::{Seal, SharingConsent};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use tessera_patients::PatientId;
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
            let db = |e: sea_orm::DbErr| ApiError::database(&e);
            let (viewer, age) = Viewer::load(txn, &tenant, identity, activity, trace, &pid)
                .await
                .map_err(db)?;
            let now = viewer.now;
            let own = viewer.decide(&tenant, SharingConsent::None, &Seal::None);
            if !own.permit {
                return Err(Fail::denied(
                    &pid,
                    &own,
                    "no legitimate relationship with this patient in your trust",
                ));
            }
            // The viewer's own trust first, then each trust holding a record of the person.
            let (_, others) = holders(txn, &tenant, &pid, &registry).await.map_err(db)?;
            let places = std::iter::once((tenant.clone(), vec![pid.clone()]))
                .chain(others.into_iter().map(|h| (h.trust, h.ids)));
            let seal_item = format!("document:{document}");
            for (trust, ids) in places {
                let sp = txn.begin().await.map_err(db)?;
                in_schema(&sp, &trust).await.map_err(db)?;
                let Some(found) = projection::shared(&sp, document, &ids).await.map_err(db)? else {
                    sp.rollback().await.map_err(db)?;
                    continue;
                };
                let outcome = if trust == tenant {
                    viewer.decide(&trust, SharingConsent::None, viewer.mine.seal(&seal_item))
                } else {
                    let there = tessera_access::projection::load_in(
                        &sp,
                        &trust,
                        &viewer.identity,
                        &ids,
                        now,
                    )
                    .await
                    .map_err(db)?;
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
                sp.commit().await.map_err(db)?;
                in_schema(txn, &tenant).await.map_err(db)?;
                if !outcome.permit {
                    let refused = Fail::denied(
                        &pid,
                        &outcome,
                        "the patient's consent or the document's seal does not let you read it",
                    );
                    let ending = Ending::from_error(Some(pid.clone()), &refused.error);
                    return Ok((Answer::Refused(refused.error), ending));
                }
                let ending = Ending::decided(&pid, &outcome, Some(age.unwrap_or(-1)), 200, 1);
                let shown = Content {
                    trust: trust.as_str().to_string(),
                    version: found.version,
                    content_type: found.content_type,
                    bytes: found.content,
                };
                return Ok((Answer::Shown(shown), ending));
            }
            in_schema(txn, &tenant).await.map_err(db)?;
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
