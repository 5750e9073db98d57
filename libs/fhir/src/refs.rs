//! References and identifiers, written and read one way: `{"reference": "Patient/<id>"}`,
//! `{"system": …, "value": …}`, and the `system|value` token a search sends.
use serde_json::{json, Value};
use std::fmt::Display;

/// A literal reference: `{"reference": "<type>/<id>"}`.
pub fn reference(resource_type: &str, id: impl Display) -> Value {
    json!({ "reference": format!("{resource_type}/{id}") })
}

/// The id a reference (or a search value) to `resource_type` names: `Patient/abc` and a bare
/// `abc` are `abc`; a reference to another type, or an absolute URL, is `None`.
pub fn referenced_id<'a>(resource_type: &str, value: &'a str) -> Option<&'a str> {
    let value = value.trim();
    match value.split_once('/') {
        None if !value.is_empty() => Some(value),
        Some((t, id)) if t == resource_type && !id.is_empty() && !id.contains('/') => Some(id),
        _ => None,
    }
}

/// An identifier: `{"system": …, "value": …}`.
pub fn identifier(system: &str, value: &str) -> Value {
    json!({ "system": system, "value": value })
}

/// A token search value: `system|value` → `(Some(system), value)`; a bare value →
/// `(None, value)`; `|value` (no system) → `(Some(""), value)`.
pub fn token(value: &str) -> (Option<&str>, &str) {
    match value.split_once('|') {
        Some((system, v)) => (Some(system), v),
        None => (None, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_tokens_read_back() {
        assert_eq!(reference("Patient", "p1")["reference"], "Patient/p1");
        assert_eq!(referenced_id("Patient", "Patient/p1"), Some("p1"));
        assert_eq!(referenced_id("Patient", " p1 "), Some("p1"));
        for bad in ["Practitioner/p1", "Patient/", "", "https://x/Patient/p1"] {
            assert_eq!(referenced_id("Patient", bad), None, "{bad}");
        }
        assert_eq!(identifier("s", "v"), json!({ "system": "s", "value": "v" }));
        assert_eq!(token("s|v"), (Some("s"), "v"));
        assert_eq!(token("v"), (None, "v"));
        assert_eq!(token("|v"), (Some(""), "v"));
    }
}
