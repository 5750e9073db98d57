//! What the JSON API takes, and its parsing into domain types: every invalid field named at
//! once (422 `validation`), nothing reaching a use case unparsed.
use crate::domain::{code, text, Content, Context, DocType, DomainError, NewDocument, Reason};
use crate::store::{content_json, Document, Version};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_edge::problem::FieldError;
use utoipa::ToSchema;

/// Collects field errors; `take` keeps the value when it parsed.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        r.map_err(|e| match e {
            DomainError::Invalid {
                field,
                code,
                message,
            } => self.0.push(FieldError::new(field, code, message)),
        })
        .ok()
    }

    /// The value, when every field parsed.
    pub fn done<T>(self, v: Option<T>) -> Result<T, Vec<FieldError>> {
        match v {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.0),
        }
    }
}

pub fn patient(s: &str) -> Result<tessera_patients::PatientId, DomainError> {
    tessera_patients::PatientId::parse(s)
        .ok_or_else(|| DomainError::invalid("patient_id", "format", "a patient id (UUID)"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeRef {
    /// SNOMED CT concept id (record artefact), e.g. 373942005 Discharge summary.
    pub code: String,
    pub display: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextRef {
    /// `encounter` (a PAS spell), `appointment` or `referral`.
    pub kind: String,
    pub id: String,
}

fn context(e: &mut Errors, c: Option<&ContextRef>) -> Option<Option<Context>> {
    match c {
        None => Some(None),
        Some(c) => e.take(Context::parse(&c.kind, &c.id)).map(Some),
    }
}

/// A new document: a draft, version 1.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    pub patient_id: String,
    #[serde(rename = "type")]
    pub doc_type: TypeRef,
    pub title: String,
    /// The text, kept byte for byte.
    pub text: String,
    /// `text/plain` (default) or `text/markdown`.
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub context: Option<ContextRef>,
    /// The clinician who must countersign (when the type asks for a countersignature);
    /// absent: any clinician other than the author.
    #[serde(default)]
    pub countersigner: Option<String>,
}

pub fn parse_document(b: DocumentBody) -> Result<NewDocument, Vec<FieldError>> {
    let mut e = Errors::default();
    let patient_id = e.take(patient(&b.patient_id));
    let doc_type = e.take(DocType::parse(&b.doc_type.code, &b.doc_type.display));
    let title = e.take(text("title", &b.title, 300));
    let content = e.take(Content::text(b.content_type.as_deref(), &b.text));
    let ctx = context(&mut e, b.context.as_ref());
    let countersigner = match b.countersigner.as_deref() {
        None => Some(None),
        Some(c) => e.take(code("countersigner", c)).map(Some),
    };
    let v = (|| {
        Some(NewDocument {
            patient_id: patient_id?,
            doc_type: doc_type?,
            title: title?,
            content: content?,
            context: ctx?,
            countersigner: countersigner?,
            source: None,
            letter_to: None,
        })
    })();
    e.done(v)
}

/// A draft's new text (and title), or a signed document's amendment with its reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    #[serde(default)]
    pub title: Option<String>,
    pub text: String,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Required to amend a signed document; refused on a draft's edit (nothing to explain).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The parsed edit: title, content, and the reason if one was given.
pub type Edit = (Option<String>, Content, Option<Reason>);

pub fn parse_edit(b: EditBody) -> Result<Edit, Vec<FieldError>> {
    let mut e = Errors::default();
    let title = match b.title.as_deref() {
        None => Some(None),
        Some(t) => e.take(text("title", t, 300)).map(Some),
    };
    let content = e.take(Content::text(b.content_type.as_deref(), &b.text));
    let reason = match b.reason.as_deref() {
        None => Some(None),
        Some(r) => e.take(Reason::parse(r)).map(Some),
    };
    let v = (|| Some((title?, content?, reason?)))();
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentTypeBody {
    pub display: String,
    /// Documents of this type are final only when countersigned.
    #[serde(default)]
    pub countersign: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    #[serde(rename = "type")]
    pub doc_type: TypeRef,
    #[schema(value_type = Object)]
    pub definition: crate::domain::template::Definition,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    pub patient_id: String,
    /// The template's code; its newest version unless `template_version` names one.
    pub template: String,
    #[serde(default)]
    pub template_version: Option<i32>,
    #[serde(default)]
    pub context: Option<ContextRef>,
    /// Answers by section key, then field key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
}

pub fn parse_assessment(
    b: AssessmentBody,
) -> Result<crate::app::templates::NewAssessment, Vec<FieldError>> {
    let mut e = Errors::default();
    let patient_id = e.take(patient(&b.patient_id));
    let template = e.take(code("template", &b.template));
    let ctx = context(&mut e, b.context.as_ref());
    let v = (|| {
        Some(crate::app::templates::NewAssessment {
            patient_id: patient_id?,
            template_code: template?,
            template_version: b.template_version,
            context: ctx?,
            answers: b.answers,
        })
    })();
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionBody {
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
}

/// A document as it stands, with its content: `text` for text, `body` for a structured
/// assessment, `data` (base64) otherwise.
#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(flatten)]
    pub document: Document,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// One version as it was made, with its content.
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    #[serde(flatten)]
    pub version: Version,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

type Parts = (Option<String>, Option<Value>, Option<String>);

fn parts(content_type: &str, bytes: &[u8]) -> Parts {
    match content_json(content_type, bytes) {
        ("text", v) => (v.as_str().map(str::to_string), None, None),
        ("body", v) => (None, Some(v), None),
        (_, v) => (None, None, v.as_str().map(str::to_string)),
    }
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        let (text, body, data) = parts(&d.content_type, &d.content);
        Self {
            document: d,
            text,
            body,
            data,
        }
    }
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        let (text, body, data) = parts(&v.content_type, &v.content);
        Self {
            version: v,
            text,
            body,
            data,
        }
    }
}
