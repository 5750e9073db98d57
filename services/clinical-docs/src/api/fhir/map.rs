//! Documents as FHIR R4 UK Core resources, each as it stood at one version: every document as
//! a `DocumentReference` (the pointer: its content and attachments by URL), a text document
//! also as a `Composition` (the letter or summary itself, attested by its signers), an
//! assessment as a `QuestionnaireResponse` (and its NEWS2 score as an `Observation`).
use crate::app::documents::Whole;
use crate::store::search::Summary;
use crate::store::{content_json, Version};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tessera_fhir::refs;

pub const DOCUMENT_REFERENCE: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-DocumentReference";
pub const COMPOSITION: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Composition";
const SCT: &str = "http://snomed.info/sct";
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const USER: &str = "https://tessera.nhs.uk/Id/user";

/// One version of a document, with what the whole history says about it at that point.
pub struct At<'a> {
    pub whole: &'a Whole,
    pub version: &'a Version,
}

impl<'a> At<'a> {
    /// Version `n` (`None`: the newest).
    pub fn of(whole: &'a Whole, n: Option<i32>) -> Option<Self> {
        let version = match n {
            Some(n) => whole.versions.iter().find(|v| v.version == n)?,
            None => whole.versions.last()?,
        };
        Some(Self { whole, version })
    }

    /// Who signed by this version, for each action (`signed`, `countersigned`).
    fn by(&self, action: &str) -> Option<(&str, DateTime<Utc>)> {
        self.whole
            .versions
            .iter()
            .rev()
            .filter(|v| v.version <= self.version.version && v.action == action)
            .map(|v| (v.by_user.as_str(), v.recorded_at))
            .next()
    }
}

pub fn user(u: &str) -> Value {
    json!({ "identifier": { "system": USER, "value": u }, "display": u })
}

fn doc_type(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": SCT, "code": code, "display": display }] })
}

fn reference_status(status: &str) -> (&'static str, &'static str) {
    match status {
        "draft" => ("current", "preliminary"),
        "final" => ("current", "final"),
        "amended" => ("current", "amended"),
        _ => ("entered-in-error", "entered-in-error"),
    }
}

fn context(kind: Option<&str>, id: Option<uuid::Uuid>) -> Value {
    match (kind, id) {
        (Some("encounter"), Some(id)) => json!({ "encounter": [refs::reference("Encounter", id)] }),
        (Some("appointment"), Some(id)) => {
            json!({ "related": [refs::reference("Appointment", id)] })
        }
        (Some("referral"), Some(id)) => {
            json!({ "related": [refs::reference("ServiceRequest", id)] })
        }
        _ => Value::Null,
    }
}

/// The document as a `DocumentReference` at one version.
pub fn document_reference(base: &str, at: &At<'_>) -> Value {
    let (d, v) = (&at.whole.document, at.version);
    let (status, doc_status) = reference_status(&v.status);
    let mut content = vec![json!({ "attachment": {
        "contentType": v.content_type,
        "url": format!("{base}/documents/{}/versions/{}/content", d.id, v.version),
        "size": v.content.len(),
        "title": v.title,
        "creation": v.recorded_at.to_rfc3339(),
    } })];
    for a in at
        .whole
        .attachments
        .iter()
        .filter(|a| a.version <= v.version)
    {
        content.push(json!({ "attachment": {
            "contentType": a.content_type,
            "url": format!("{base}/documents/{}/attachments/{}", d.id, a.id),
            "size": a.size,
            "title": a.title,
            "creation": a.recorded_at.to_rfc3339(),
        } }));
    }
    json!({
        "resourceType": "DocumentReference",
        "id": d.id.to_string(),
        "meta": tessera_fhir::version::meta(i64::from(v.version), v.recorded_at, Some(DOCUMENT_REFERENCE)),
        "status": status,
        "docStatus": doc_status,
        "type": doc_type(&d.type_code, &d.type_display),
        "subject": refs::reference("Patient", &d.patient_id),
        "date": v.recorded_at.to_rfc3339(),
        "author": [user(&d.author_user)],
        "authenticator": at.by("countersigned").or(at.by("signed")).map(|(u, _)| user(u)),
        "custodian": { "identifier": refs::identifier(ODS, &d.author_org) },
        "description": v.title,
        "content": content,
        "context": context(d.context_kind.as_deref(), d.context_id),
    })
}

/// A document in a search's page: what the list knows (no attachments).
pub fn summary_reference(base: &str, s: &Summary) -> Value {
    let (status, doc_status) = reference_status(&s.status);
    json!({
        "resourceType": "DocumentReference",
        "id": s.id.to_string(),
        "meta": tessera_fhir::version::meta(i64::from(s.version), s.updated_at, Some(DOCUMENT_REFERENCE)),
        "status": status,
        "docStatus": doc_status,
        "type": doc_type(&s.type_code, &s.type_display),
        "subject": refs::reference("Patient", &s.patient_id),
        "date": s.updated_at.to_rfc3339(),
        "author": [user(&s.author_user)],
        "description": s.title,
        "content": [{ "attachment": {
            "url": format!("{base}/documents/{}/versions/{}/content", s.id, s.version),
            "title": s.title,
        } }],
    })
}

/// Text for a narrative: escaped, line breaks kept.
fn xhtml(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br/>");
    format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{escaped}</div>")
}

/// A text document (a letter, a summary, a note) as a `Composition` at one version; an
/// assessment's sections as its sections. `None` for content that is neither.
pub fn composition(at: &At<'_>) -> Option<Value> {
    let (d, v) = (&at.whole.document, at.version);
    let sections: Vec<Value> = match content_json(&v.content_type, &v.content) {
        ("text", t) => vec![json!({ "title": v.title, "text": { "status": "generated", "div": xhtml(t.as_str().unwrap_or_default()) } })],
        ("body", b) => b["sections"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, s)| json!({ "title": k, "text": { "status": "generated", "div": xhtml(&s["answers"].to_string()) } }))
                    .collect()
            })
            .unwrap_or_default(),
        _ => return None,
    };
    let status = match v.status.as_str() {
        "draft" => "preliminary",
        other => other,
    };
    let attester: Vec<Value> = [("signed", "legal"), ("countersigned", "professional")]
        .iter()
        .filter_map(|(action, mode)| {
            at.by(action)
                .map(|(u, t)| json!({ "mode": mode, "time": t.to_rfc3339(), "party": user(u) }))
        })
        .collect();
    Some(json!({
        "resourceType": "Composition",
        "id": d.id.to_string(),
        "meta": tessera_fhir::version::meta(i64::from(v.version), v.recorded_at, Some(COMPOSITION)),
        "status": status,
        "type": doc_type(&d.type_code, &d.type_display),
        "subject": refs::reference("Patient", &d.patient_id),
        "encounter": (d.context_kind.as_deref() == Some("encounter")).then(|| d.context_id.map(|i| refs::reference("Encounter", i))),
        "date": v.recorded_at.to_rfc3339(),
        "author": [user(&d.author_user)],
        "title": v.title,
        "attester": attester,
        "custodian": { "identifier": refs::identifier(ODS, &d.author_org) },
        "section": sections,
    }))
}
