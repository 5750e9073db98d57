//! Templates as FHIR `Questionnaire`s (one resource per template code, each saved version a
//! `versionId`), assessments as `QuestionnaireResponse`s naming the exact version they used
//! (`questionnaire` = `url|version`), and a NEWS2 score as an `Observation`.
use super::map::{user, At};
use crate::domain::template::{Field, FieldKind};
use crate::store::content_json;
use crate::store::templates::Template;
use serde_json::{json, Value};
use tessera_fhir::refs;

const SCT: &str = "http://snomed.info/sct";
/// Royal College of Physicians NEWS2 total score (UK extension).
pub const NEWS2_SCORE: &str = "1104051000000101";

/// The canonical URL of a trust's template.
pub fn canonical(base: &str, code: &str) -> String {
    format!("{base}/Questionnaire/{code}")
}

fn item(f: &Field) -> Value {
    let kind = match f.kind {
        FieldKind::Text => "text",
        FieldKind::Coded | FieldKind::Choice => "choice",
        FieldKind::Quantity => "quantity",
        FieldKind::Date => "date",
    };
    let options: Vec<Value> = f
        .options
        .iter()
        .map(|o| json!({ "valueString": o }))
        .collect();
    json!({
        "linkId": f.key,
        "text": f.label,
        "type": kind,
        "required": f.required,
        "answerOption": (!options.is_empty()).then_some(options),
        "answerValueSet": (f.kind == FieldKind::Coded).then_some("http://snomed.info/sct?fhir_vs"),
        "extension": f.unit.as_ref().map(|u| vec![json!({
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
            "valueCoding": { "system": "http://unitsofmeasure.org", "code": u }
        })]),
    })
}

pub fn questionnaire(base: &str, t: &Template) -> Value {
    let groups: Vec<Value> = t
        .definition
        .sections
        .iter()
        .map(|s| {
            json!({ "linkId": s.key, "text": s.title, "type": "group", "required": s.required,
                    "item": s.fields.iter().map(item).collect::<Vec<_>>() })
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": t.code,
        "meta": tessera_fhir::version::meta(i64::from(t.version), t.created_at, None),
        "url": canonical(base, &t.code),
        "version": t.version.to_string(),
        "name": t.code.replace(['-', '.', ':', '@'], "_"),
        "title": t.definition.title,
        "status": "active",
        "date": t.created_at.to_rfc3339(),
        "code": [{ "system": SCT, "code": t.type_code }],
        "item": groups,
    })
}

fn answer(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({ "valueString": s }),
        Value::Number(n) => json!({ "valueDecimal": n }),
        Value::Object(o) if o.contains_key("code") => json!({ "valueCoding": v }),
        other => json!({ "valueString": other.to_string() }),
    }
}

/// The assessment's body at this version, if it is one.
fn body(at: &At<'_>) -> Option<Value> {
    match content_json(&at.version.content_type, &at.version.content) {
        ("body", b) if at.whole.document.template_id.is_some() => Some(b),
        _ => None,
    }
}

pub fn questionnaire_response(base: &str, at: &At<'_>) -> Option<Value> {
    let b = body(at)?;
    let (d, v) = (&at.whole.document, at.version);
    let status = match v.status.as_str() {
        "draft" => "in-progress",
        "final" => "completed",
        other => other,
    };
    let groups: Vec<Value> = b["sections"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, s)| {
                    let answers: Vec<Value> = s["answers"]
                        .as_object()
                        .map(|a| {
                            a.iter()
                                .map(|(f, x)| json!({ "linkId": f, "answer": [answer(x)] }))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({ "linkId": k, "item": answers })
                })
                .collect()
        })
        .unwrap_or_default();
    let code = b["template"]["code"].as_str().unwrap_or_default();
    let version = b["template"]["version"].as_i64().unwrap_or_default();
    Some(json!({
        "resourceType": "QuestionnaireResponse",
        "id": d.id.to_string(),
        "meta": tessera_fhir::version::meta(i64::from(v.version), v.recorded_at, None),
        "questionnaire": format!("{}|{version}", canonical(base, code)),
        "status": status,
        "subject": refs::reference("Patient", &d.patient_id),
        "authored": v.recorded_at.to_rfc3339(),
        "author": user(&d.author_user),
        "item": groups,
    }))
}

/// A NEWS2 assessment's score as an `Observation` (`None` until it has one).
pub fn news2_observation(at: &At<'_>) -> Option<Value> {
    let b = body(at)?;
    let score = b.get("score").filter(|s| !s.is_null())?;
    let (d, v) = (&at.whole.document, at.version);
    let status = match v.status.as_str() {
        "draft" => "preliminary",
        other => other,
    };
    Some(json!({
        "resourceType": "Observation",
        "id": d.id.to_string(),
        "meta": tessera_fhir::version::meta(i64::from(v.version), v.recorded_at, None),
        "status": status,
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey" }] }],
        "code": { "coding": [{ "system": SCT, "code": NEWS2_SCORE,
            "display": "Royal College of Physicians National Early Warning Score 2 (NEWS2) total score" }] },
        "subject": refs::reference("Patient", &d.patient_id),
        "effectiveDateTime": v.recorded_at.to_rfc3339(),
        "performer": [user(&d.author_user)],
        "valueInteger": score["aggregate"],
        "interpretation": [{ "text": format!("{} clinical risk: {}", score["risk"].as_str().unwrap_or_default(), score["response"].as_str().unwrap_or_default()) }],
        "derivedFrom": [refs::reference("QuestionnaireResponse", d.id)],
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_news2_score_code_is_a_concept_id() {
        assert!(tessera_nhs::ConceptId::parse(super::NEWS2_SCORE).is_ok());
    }
}
