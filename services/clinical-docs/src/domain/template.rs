//! Templates and the answers given to them. A template is sections of fields — text, a SNOMED
//! CT coded value, a quantity with its unit and range, a date, a choice — some required, and
//! optionally a computed score (`news2`). A template version once used is never edited: a
//! change is a new version, and an assessment keeps the version it was made with.
use super::news2::{self, Consciousness, Observations, SpO2Scale};
use super::{code, text, DocType, DomainError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Coded,
    Quantity,
    Date,
    Choice,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Quantity: its UCUM unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Choice: the codes offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: String,
    /// The assessment is final when every required section is signed.
    #[serde(default)]
    pub required: bool,
    pub fields: Vec<Field>,
}

/// A template's definition, as kept with each version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub title: String,
    pub sections: Vec<Section>,
    /// A computed score: `news2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
}

/// A template to save as a new version: its code, the document type its assessments have,
/// and its definition, checked.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub code: String,
    pub doc_type: DocType,
    pub definition: Definition,
}

/// The fields NEWS2 scores, their kinds, and their choices.
const NEWS2_FIELDS: [(&str, FieldKind); 8] = [
    ("respiration_rate", FieldKind::Quantity),
    ("spo2", FieldKind::Quantity),
    ("spo2_scale", FieldKind::Choice),
    ("air_or_oxygen", FieldKind::Choice),
    ("systolic_bp", FieldKind::Quantity),
    ("pulse", FieldKind::Quantity),
    ("consciousness", FieldKind::Choice),
    ("temperature", FieldKind::Quantity),
];

impl NewTemplate {
    pub fn parse(code_: &str, doc_type: DocType, d: Definition) -> Result<Self, DomainError> {
        let code_ = code("code", code_)?;
        let mut d = d;
        d.title = text("title", &d.title, 200)?;
        if d.sections.is_empty() {
            return Err(DomainError::invalid(
                "sections",
                "required",
                "at least one section",
            ));
        }
        let mut sections = BTreeSet::new();
        let mut fields = BTreeSet::new();
        for (i, s) in d.sections.iter_mut().enumerate() {
            s.key = code(&format!("sections[{i}].key"), &s.key)?;
            s.title = text(&format!("sections[{i}].title"), &s.title, 200)?;
            if !sections.insert(s.key.clone()) {
                return Err(DomainError::invalid(
                    format!("sections[{i}].key"),
                    "duplicate",
                    "section keys are unique",
                ));
            }
            if s.fields.is_empty() {
                return Err(DomainError::invalid(
                    format!("sections[{i}].fields"),
                    "required",
                    "at least one field",
                ));
            }
            for (j, f) in s.fields.iter_mut().enumerate() {
                let at = format!("sections[{i}].fields[{j}]");
                f.key = code(&format!("{at}.key"), &f.key)?;
                f.label = text(&format!("{at}.label"), &f.label, 200)?;
                if !fields.insert(f.key.clone()) {
                    return Err(DomainError::invalid(
                        format!("{at}.key"),
                        "duplicate",
                        "field keys are unique across the template",
                    ));
                }
                check_field(&at, f)?;
            }
        }
        match d.score.as_deref() {
            None => {}
            Some("news2") => {
                for (key, kind) in NEWS2_FIELDS {
                    let found = d
                        .sections
                        .iter()
                        .flat_map(|s| &s.fields)
                        .find(|f| f.key == key);
                    if found.map(|f| f.kind) != Some(kind) {
                        return Err(DomainError::invalid(
                            "score",
                            "news2",
                            format!("NEWS2 needs a {kind:?} field {key}"),
                        ));
                    }
                }
            }
            Some(_) => return Err(DomainError::invalid("score", "code", "news2, or none")),
        }
        Ok(Self {
            code: code_,
            doc_type,
            definition: d,
        })
    }
}

fn check_field(at: &str, f: &Field) -> Result<(), DomainError> {
    match f.kind {
        FieldKind::Quantity => {
            if f.unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
                return Err(DomainError::invalid(
                    format!("{at}.unit"),
                    "required",
                    "a quantity has a unit",
                ));
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max) {
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    return Err(DomainError::invalid(
                        format!("{at}.min"),
                        "range",
                        "min ≤ max",
                    ));
                }
            }
        }
        FieldKind::Choice if f.options.is_empty() => {
            return Err(DomainError::invalid(
                format!("{at}.options"),
                "required",
                "a choice offers options",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// A section's answers checked against the template: every key a field of the section,
/// every value of its field's kind and range, every required field answered (when
/// `complete`). Returns the answers as they will be kept.
pub fn check_answers(
    section: &Section,
    answers: &Map<String, Value>,
    complete: bool,
) -> Result<Map<String, Value>, DomainError> {
    let mut out = Map::new();
    for (k, v) in answers {
        let Some(f) = section.fields.iter().find(|f| &f.key == k) else {
            return Err(DomainError::invalid(
                format!("answers.{k}"),
                "unknown",
                "not a field of this section",
            ));
        };
        let at = format!("answers.{k}");
        let ok = match f.kind {
            FieldKind::Text => v.as_str().map(|s| text(&at, s, 10_000).map(Value::from)),
            FieldKind::Choice => v.as_str().map(|s| {
                if f.options.iter().any(|o| o == s) {
                    Ok(Value::from(s))
                } else {
                    Err(DomainError::invalid(&at, "code", format!("one of {}", f.options.join(", "))))
                }
            }),
            FieldKind::Date => v.as_str().map(|s| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|_| Value::from(s))
                    .map_err(|_| DomainError::invalid(&at, "format", "YYYY-MM-DD"))
            }),
            FieldKind::Quantity => v.as_f64().map(|x| {
                let inside = x.is_finite() && f.min.is_none_or(|lo| x >= lo) && f.max.is_none_or(|hi| x <= hi);
                if inside {
                    Ok(v.clone())
                } else {
                    Err(DomainError::invalid(&at, "range", format!("between {:?} and {:?} {}", f.min, f.max, f.unit.as_deref().unwrap_or(""))))
                }
            }),
            FieldKind::Coded => v.get("code").and_then(Value::as_str).map(|c| {
                let display = v.get("display").and_then(Value::as_str).unwrap_or_default();
                DocType::parse(c, if display.is_empty() { c } else { display })
                    .map(|t| serde_json::json!({ "system": "http://snomed.info/sct", "code": t.code.as_str(), "display": t.display }))
                    .map_err(|e| DomainError::invalid(&at, "snomed", e.to_string()))
            }),
        };
        let kept = ok.unwrap_or_else(|| {
            Err(DomainError::invalid(
                &at,
                "type",
                format!("a {:?} value", f.kind),
            ))
        })?;
        out.insert(k.clone(), kept);
    }
    if complete {
        if let Some(f) = section
            .fields
            .iter()
            .find(|f| f.required && !out.contains_key(&f.key))
        {
            return Err(DomainError::invalid(
                format!("answers.{}", f.key),
                "required",
                "a required field",
            ));
        }
    }
    Ok(out)
}

/// The score a template computes from all its sections' answers, when every field it needs
/// is answered (`None` until then).
pub fn compute(
    def: &Definition,
    answers: &Map<String, Value>,
) -> Result<Option<news2::Score>, DomainError> {
    if def.score.as_deref() != Some("news2") {
        return Ok(None);
    }
    let all: Map<String, Value> = answers
        .values()
        .filter_map(Value::as_object)
        .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    if NEWS2_FIELDS.iter().any(|(k, _)| !all.contains_key(*k)) {
        return Ok(None);
    }
    let num = |k: &str| all.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let s = |k: &str| all.get(k).and_then(Value::as_str).unwrap_or_default();
    let scale = match s("spo2_scale") {
        "2" => SpO2Scale::Two,
        "1" => SpO2Scale::One,
        _ => return Err(DomainError::invalid("answers.spo2_scale", "code", "1 or 2")),
    };
    let on_oxygen = match s("air_or_oxygen") {
        "oxygen" => true,
        "air" => false,
        _ => {
            return Err(DomainError::invalid(
                "answers.air_or_oxygen",
                "code",
                "air or oxygen",
            ))
        }
    };
    let o = Observations {
        respiration_rate: news2::whole("answers.respiration_rate", num("respiration_rate"), 0, 80)?,
        spo2: news2::whole("answers.spo2", num("spo2"), 0, 100)?,
        scale,
        on_oxygen,
        systolic_bp: news2::whole("answers.systolic_bp", num("systolic_bp"), 0, 300)?,
        pulse: news2::whole("answers.pulse", num("pulse"), 0, 300)?,
        consciousness: Consciousness::parse(s("consciousness"))?,
        temperature_tenths: news2::tenths("answers.temperature", num("temperature"))?,
    };
    Ok(Some(news2::score(&o)))
}
