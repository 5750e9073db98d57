//! Documents: created as drafts, read as they stand or as any version was, changed only
//! against the version read, and found by type, status, author, date and words. Each under
//! the access decision on the patient and the document's seal; each one audited transaction.
use super::access::{denied, permit, Decider, Who};
use super::{author, publish, Fail};
use crate::api::Authorized;
use crate::domain::{DocumentId, NewDocument};
use crate::store::search::{self, Filter, Summary};
use crate::store::{self, Applied, Change, Document, Version};
use chrono::Utc;
use sea_orm::DatabaseTransaction;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn create(auth: &Authorized, d: NewDocument) -> Result<(Document, bool), ApiError> {
    let who = Who::of(auth);
    let patient = d.patient_id.to_string();
    let by = author(auth);
    let events = publish(auth);
    super::audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            super::known(txn, &d.patient_id).await?;
            let decider = Decider::load(&who, txn, &patient).await?;
            let outcome = decider.patient();
            if !outcome.permit {
                return Err(denied(&patient, &outcome));
            }
            let (doc, created) = store::create(txn, &d, None, &by, &by, Utc::now())
                .await
                .map_err(Fail::from)?;
            if created {
                events.created(txn, &doc).await.map_err(Fail::from)?;
            }
            let status = 201;
            Ok((
                (doc, created),
                permit(&patient, &outcome, &decider, status, 1),
            ))
        })
    })
    .await
}

/// The document, with the decision on it made in `txn`: refused (as the decision says) for
/// a caller who may not see it.
async fn decided(
    who: &Who,
    txn: &DatabaseTransaction,
    id: DocumentId,
    lock: bool,
) -> Result<(Document, Decider, tessera_access::decision::Outcome), Fail> {
    let doc = store::document(txn, id, lock).await.map_err(Fail::from)?;
    let decider = Decider::load(who, txn, &doc.patient_id).await?;
    let outcome = decider.document(doc.id);
    if !outcome.permit {
        return Err(denied(&doc.patient_id, &outcome));
    }
    Ok((doc, decider, outcome))
}

pub async fn read(auth: &Authorized, id: DocumentId) -> Result<Document, ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let ending = permit(&doc.patient_id, &outcome, &decider, 200, 1);
            Ok((doc, ending))
        })
    })
    .await
}

pub async fn versions(
    auth: &Authorized,
    id: DocumentId,
) -> Result<(Document, Vec<Version>), ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let all = store::versions(txn, id).await.map_err(Fail::from)?;
            let n = i32::try_from(all.len()).unwrap_or(i32::MAX);
            let ending = permit(&doc.patient_id, &outcome, &decider, 200, n);
            Ok(((doc, all), ending))
        })
    })
    .await
}

pub async fn version(auth: &Authorized, id: DocumentId, n: i32) -> Result<Version, ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let v = store::version(txn, id, n).await.map_err(|e| Fail {
                patient_id: Some(doc.patient_id.clone()),
                ..Fail::from(e)
            })?;
            Ok((v, permit(&doc.patient_id, &outcome, &decider, 200, 1)))
        })
    })
    .await
}

/// Applies `change` against version `expected`: the new document, or (stale) the current
/// one — which the caller may see, so its reading is audited as a read answered 412.
pub async fn change(
    auth: &Authorized,
    id: DocumentId,
    expected: i32,
    change: Change,
) -> Result<Applied, ApiError> {
    let who = Who::of(auth);
    let by = author(auth);
    let events = publish(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, true).await?;
            let whole = matches!(change, Change::EnteredInError { .. });
            if doc.template_id.is_some() && !whole {
                return Err(Fail {
                    error: ApiError::new(
                        crate::api::errors::BY_SECTION,
                        "an assessment is answered and signed section by section; a wrong one is marked entered in error and made again",
                    ),
                    patient_id: Some(doc.patient_id),
                });
            }
            let applied = store::apply(txn, doc, expected, &change, &by, Utc::now())
                .await
                .map_err(Fail::from)?;
            let ending = match &applied {
                Applied::Changed(d) => {
                    events
                        .changed(txn, d, change.action(), &by.user)
                        .await
                        .map_err(Fail::from)?;
                    crate::store::letters::render_if_final(txn, d, &events, &by.org)
                        .await
                        .map_err(Fail::from)?;
                    permit(&d.patient_id, &outcome, &decider, 200, 1)
                }
                Applied::Stale(d) => permit(&d.patient_id, &outcome, &decider, 412, 1),
            };
            Ok((applied, ending))
        })
    })
    .await
}

/// A page of the patient's documents the caller may see (sealed ones they may not are left
/// out of the page and the total), and the total.
pub async fn search(auth: &Authorized, f: Filter) -> Result<(Vec<Summary>, i64), ApiError> {
    let who = Who::of(auth);
    let patient = f.patient_id.clone();
    super::audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            let decider = Decider::load(&who, txn, &patient).await?;
            let outcome = decider.patient();
            if !outcome.permit {
                return Err(denied(&patient, &outcome));
            }
            let mut glass = outcome;
            let mut hidden: Vec<Uuid> = vec![];
            for id in decider.sealed() {
                let o = decider.document(id);
                if !o.permit {
                    hidden.push(id);
                } else if o.alert {
                    glass = o;
                }
            }
            let (rows, total) = search::search(txn, &f, &hidden).await.map_err(Fail::from)?;
            let n = i32::try_from(rows.len()).unwrap_or(i32::MAX);
            Ok(((rows, total), permit(&patient, &glass, &decider, 200, n)))
        })
    })
    .await
}

/// The rendered PDF of a final letter's version.
pub async fn pdf(auth: &Authorized, id: DocumentId, n: i32) -> Result<Vec<u8>, ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let bytes = crate::store::letters::pdf(txn, doc.id, n)
                .await
                .map_err(|e| Fail {
                    patient_id: Some(doc.patient_id.clone()),
                    ..Fail::from(e)
                })?;
            Ok((bytes, permit(&doc.patient_id, &outcome, &decider, 200, 1)))
        })
    })
    .await
}

/// Attaches content to a draft, as its next version (against version `expected`).
pub async fn attach(
    auth: &Authorized,
    id: DocumentId,
    expected: i32,
    a: crate::domain::attachment::Attachment,
) -> Result<(Applied, Option<crate::store::attachments::Stored>), ApiError> {
    let who = Who::of(auth);
    let by = author(auth);
    let events = publish(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, true).await?;
            let patient = doc.patient_id.clone();
            let (applied, stored) =
                crate::store::attachments::attach(txn, doc, expected, &a, &by, Utc::now())
                    .await
                    .map_err(|e| Fail {
                        patient_id: Some(patient.clone()),
                        ..Fail::from(e)
                    })?;
            let status = match &applied {
                Applied::Changed(d) => {
                    events
                        .changed(txn, d, Change::Attach.action(), &by.user)
                        .await
                        .map_err(Fail::from)?;
                    201
                }
                Applied::Stale(_) => 412,
            };
            Ok((
                (applied, stored),
                permit(&patient, &outcome, &decider, status, 1),
            ))
        })
    })
    .await
}

pub async fn attachments(
    auth: &Authorized,
    id: DocumentId,
) -> Result<Vec<crate::store::attachments::Stored>, ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let all = crate::store::attachments::list(txn, id)
                .await
                .map_err(Fail::from)?;
            let n = i32::try_from(all.len()).unwrap_or(i32::MAX);
            Ok((all, permit(&doc.patient_id, &outcome, &decider, 200, n)))
        })
    })
    .await
}

pub async fn attachment(
    auth: &Authorized,
    id: DocumentId,
    attachment: Uuid,
) -> Result<(crate::store::attachments::Stored, Vec<u8>), ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (doc, decider, outcome) = decided(&who, txn, id, false).await?;
            let got = crate::store::attachments::content(txn, id, attachment)
                .await
                .map_err(|e| Fail {
                    patient_id: Some(doc.patient_id.clone()),
                    ..Fail::from(e)
                })?;
            Ok((got, permit(&doc.patient_id, &outcome, &decider, 200, 1)))
        })
    })
    .await
}

/// A document, every version, and its attachments: what its FHIR resources (as they stand,
/// and as each version was) are made of. One audited read.
pub struct Whole {
    pub document: Document,
    pub versions: Vec<Version>,
    pub attachments: Vec<crate::store::attachments::Stored>,
}

pub async fn whole(auth: &Authorized, id: DocumentId) -> Result<Whole, ApiError> {
    let who = Who::of(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let (document, decider, outcome) = decided(&who, txn, id, false).await?;
            let versions = store::versions(txn, id).await.map_err(Fail::from)?;
            let attachments = crate::store::attachments::list(txn, id)
                .await
                .map_err(Fail::from)?;
            let ending = permit(&document.patient_id, &outcome, &decider, 200, 1);
            Ok((
                Whole {
                    document,
                    versions,
                    attachments,
                },
                ending,
            ))
        })
    })
    .await
}
