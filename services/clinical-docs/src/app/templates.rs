//! Document types, templates, and assessments made with them: an assessment is a document
//! whose content is its template version's sections, answered and signed section by section
//! (several authors), with the template's score computed (NEWS2).
use super::access::{denied, permit, Decider, Who};
use super::{author, publish, Fail};
use crate::api::Authorized;
use crate::domain::assessment::{Body, TemplateRef};
use crate::domain::template::NewTemplate;
use crate::domain::{Content, DocType, DocumentId, NewDocument, TemplateId};
use crate::store::templates::{self, DocumentType, Template};
use crate::store::{self, Applied, Change, Document};
use chrono::Utc;
use serde_json::{Map, Value};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

pub async fn put_type(
    auth: &Authorized,
    t: DocType,
    countersign: bool,
) -> Result<DocumentType, ApiError> {
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let t = templates::put_type(txn, &t, countersign)
                .await
                .map_err(Fail::from)?;
            Ok((t, Ending::permit(None, 200, 1)))
        })
    })
    .await
}

pub async fn types(auth: &Authorized) -> Result<Vec<DocumentType>, ApiError> {
    super::listed(auth, None, |txn| Box::pin(templates::types(txn))).await
}

pub async fn save(auth: &Authorized, t: NewTemplate) -> Result<Template, ApiError> {
    let by = auth.identity.user_id.clone();
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let saved = templates::save(txn, &t, &by, Utc::now())
                .await
                .map_err(Fail::from)?;
            Ok((saved, Ending::permit(None, 201, 1)))
        })
    })
    .await
}

pub async fn latest(auth: &Authorized) -> Result<Vec<Template>, ApiError> {
    super::listed(auth, None, |txn| Box::pin(templates::latest(txn))).await
}

pub async fn template(
    auth: &Authorized,
    code: String,
    version: Option<i32>,
) -> Result<Template, ApiError> {
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let t = templates::by_code(txn, &code, version)
                .await
                .map_err(Fail::from)?;
            Ok((t, Ending::permit(None, 200, 1)))
        })
    })
    .await
}

pub async fn versions(auth: &Authorized, code: String) -> Result<Vec<Template>, ApiError> {
    super::listed(auth, None, move |txn| {
        Box::pin(async move { templates::versions(txn, &code).await })
    })
    .await
}

/// A new assessment: a draft document of the template's type holding the template version's
/// reference, the first answers, and the score so far.
pub struct NewAssessment {
    pub patient_id: tessera_patients::PatientId,
    pub template_code: String,
    pub template_version: Option<i32>,
    pub context: Option<crate::domain::Context>,
    pub answers: Map<String, Value>,
}

pub async fn assess(auth: &Authorized, a: NewAssessment) -> Result<Document, ApiError> {
    let who = Who::of(auth);
    let patient = a.patient_id.to_string();
    let by = author(auth);
    let events = publish(auth);
    super::audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            super::known(txn, &a.patient_id).await?;
            let decider = Decider::load(&who, txn, &patient).await?;
            let outcome = decider.patient();
            if !outcome.permit {
                return Err(denied(&patient, &outcome));
            }
            let t = templates::by_code(txn, &a.template_code, a.template_version)
                .await
                .map_err(Fail::from)?;
            let r = TemplateRef {
                id: t.id,
                code: t.code.clone(),
                version: t.version,
            };
            let body = Body::new(r, &t.definition, &a.answers)
                .map_err(|e| Fail::from(super::domain_error(e)))?;
            let types = templates::types(txn).await.map_err(Fail::from)?;
            let display = types
                .iter()
                .find(|x| x.code == t.type_code)
                .map(|x| x.display.clone())
                .unwrap_or_else(|| t.type_code.clone());
            let doc_type = DocType::parse(&t.type_code, &display)
                .map_err(|e| Fail::from(super::domain_error(e)))?;
            let d = NewDocument {
                patient_id: a.patient_id,
                doc_type,
                title: t.definition.title.clone(),
                content: Content::json(&body.to_value()),
                context: a.context,
                countersigner: None,
                source: None,
                letter_to: None,
            };
            let (doc, _) = store::create(txn, &d, Some(t.id), &by, &by, Utc::now())
                .await
                .map_err(Fail::from)?;
            events.created(txn, &doc).await.map_err(Fail::from)?;
            Ok((doc, permit(&patient, &outcome, &decider, 201, 1)))
        })
    })
    .await
}

/// What is done to one section.
pub enum SectionChange {
    Answer(Map<String, Value>),
    Sign,
}

/// Answers or signs one section of an assessment, against version `expected`.
pub async fn section(
    auth: &Authorized,
    id: DocumentId,
    expected: i32,
    key: String,
    what: SectionChange,
) -> Result<Applied, ApiError> {
    let who = Who::of(auth);
    let by = author(auth);
    let events = publish(auth);
    super::audited(auth, None, move |txn| {
        Box::pin(async move {
            let doc = store::document(txn, id, true).await.map_err(Fail::from)?;
            let decider = Decider::load(&who, txn, &doc.patient_id).await?;
            let outcome = decider.document(doc.id);
            if !outcome.permit {
                return Err(denied(&doc.patient_id, &outcome));
            }
            let fail = |e: ApiError| Fail {
                error: e,
                patient_id: Some(doc.patient_id.clone()),
            };
            if doc.version != expected {
                let ending = permit(&doc.patient_id, &outcome, &decider, 412, 1);
                return Ok((Applied::Stale(doc), ending));
            }
            let Some(template) = doc.template_id else {
                return Err(fail(ApiError::new(
                    crate::api::errors::NOT_AN_ASSESSMENT,
                    "this document has no sections",
                )));
            };
            let t = templates::by_id(txn, TemplateId::from(template))
                .await
                .map_err(Fail::from)?;
            let mut body = Body::parse(&doc.content).map_err(|e| fail(super::domain_error(e)))?;
            let signed = |e: crate::domain::DomainError| match &e {
                crate::domain::DomainError::Invalid {
                    code: "signed",
                    message,
                    ..
                } => fail(ApiError::new(
                    crate::api::errors::SECTION_SIGNED,
                    message.clone(),
                )),
                _ => fail(super::domain_error(e)),
            };
            let change = match what {
                SectionChange::Answer(answers) => {
                    body.answer(&t.definition, &key, &answers).map_err(signed)?;
                    Change::Section {
                        content: Content::json(&body.to_value()),
                    }
                }
                SectionChange::Sign => {
                    let complete = body
                        .sign(&t.definition, &key, &by.user, Utc::now())
                        .map_err(signed)?;
                    Change::SectionSigned {
                        content: Content::json(&body.to_value()),
                        complete,
                    }
                }
            };
            let patient = doc.patient_id.clone();
            let applied = store::apply(txn, doc, expected, &change, &by, Utc::now())
                .await
                .map_err(Fail::from)?;
            if let Applied::Changed(d) = &applied {
                events
                    .changed(txn, d, change.action(), &by.user)
                    .await
                    .map_err(Fail::from)?;
            }
            Ok((applied, permit(&patient, &outcome, &decider, 200, 1)))
        })
    })
    .await
}
