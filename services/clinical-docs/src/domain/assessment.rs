//! A structured assessment's body: the template version it was made with, each section's
//! answers and who signed the section, and the computed score. Several authors each answer
//! and sign their sections; the assessment is final when every required section is signed
//! (every section, when the template marks none required).
use super::template::{check_answers, compute, Definition, Section};
use super::DomainError;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TemplateRef {
    pub id: uuid::Uuid,
    pub code: String,
    pub version: i32,
}

/// (No `Debug` here or on [`Body`]: answers are clinical.)
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SectionState {
    pub answers: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Body {
    pub template: TemplateRef,
    pub sections: BTreeMap<String, SectionState>,
    /// The template's computed score, once every field it needs is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Value>,
}

fn section<'a>(def: &'a Definition, key: &str) -> Result<&'a Section, DomainError> {
    def.sections.iter().find(|s| s.key == key).ok_or_else(|| {
        DomainError::invalid(
            "section",
            "unknown",
            format!("the template has no section {key}"),
        )
    })
}

impl Body {
    /// A new assessment's body from its first answers (any sections, complete or not).
    pub fn new(
        template: TemplateRef,
        def: &Definition,
        answers: &Map<String, Value>,
    ) -> Result<Self, DomainError> {
        let mut body = Self {
            template,
            sections: BTreeMap::new(),
            score: None,
        };
        for (key, a) in answers {
            let a = a.as_object().ok_or_else(|| {
                DomainError::invalid(
                    format!("answers.{key}"),
                    "type",
                    "an object of field answers",
                )
            })?;
            body.answer(def, key, a)?;
        }
        Ok(body)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, DomainError> {
        serde_json::from_slice(bytes).map_err(|e| {
            DomainError::invalid("content", "format", format!("not an assessment body: {e}"))
        })
    }

    /// One section's answers, replacing what it had; refused once the section is signed.
    pub fn answer(
        &mut self,
        def: &Definition,
        key: &str,
        answers: &Map<String, Value>,
    ) -> Result<(), DomainError> {
        let s = section(def, key)?;
        let state = self.sections.entry(key.to_string()).or_default();
        if state.signed_by.is_some() {
            return Err(DomainError::invalid(
                "section",
                "signed",
                format!("section {key} is signed"),
            ));
        }
        state.answers = check_answers(s, answers, false)?;
        self.rescore(def)
    }

    /// Signs one section (complete: every required field answered). Answers whether the
    /// assessment is now complete.
    pub fn sign(
        &mut self,
        def: &Definition,
        key: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let s = section(def, key)?;
        let state = self.sections.entry(key.to_string()).or_default();
        if state.signed_by.is_some() {
            return Err(DomainError::invalid(
                "section",
                "signed",
                format!("section {key} is signed"),
            ));
        }
        check_answers(s, &state.answers, true)?;
        state.signed_by = Some(by.to_string());
        state.signed_at = Some(at.to_rfc3339_opts(SecondsFormat::Secs, true));
        let required: Vec<&Section> = if def.sections.iter().any(|s| s.required) {
            def.sections.iter().filter(|s| s.required).collect()
        } else {
            def.sections.iter().collect()
        };
        Ok(required.iter().all(|s| {
            self.sections
                .get(&s.key)
                .is_some_and(|st| st.signed_by.is_some())
        }))
    }

    fn rescore(&mut self, def: &Definition) -> Result<(), DomainError> {
        let all: Map<String, Value> = self
            .sections
            .iter()
            .map(|(k, s)| (k.clone(), Value::Object(s.answers.clone())))
            .collect();
        self.score = compute(def, &all)?.map(|s| serde_json::to_value(s).unwrap_or(Value::Null));
        Ok(())
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
