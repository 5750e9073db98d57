//! FHIR forbids empty elements: no `[]`, no `{}`, no `""` (R4 §2.6.2 JSON). Every resource a
//! service answers goes through [`prune`].
use serde_json::Value;

/// Removes empty arrays, objects and strings, and `null`s, at every depth; answers whether
/// `v` itself is now empty.
pub fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => {
            items.retain_mut(|i| !prune(i));
            items.is_empty()
        }
        Value::Object(map) => {
            map.retain(|_, i| !prune(i));
            map.is_empty()
        }
        Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_elements_go_at_every_depth_and_values_stay() {
        let mut v = json!({
            "resourceType": "Patient", "identifier": [], "active": false, "count": 0,
            "name": [{ "given": [], "family": "Smith", "prefix": "" }, {}],
            "address": [{ "line": [""] }], "telecom": null
        });
        prune(&mut v);
        assert_eq!(
            v,
            json!({ "resourceType": "Patient", "active": false, "count": 0, "name": [{ "family": "Smith" }] })
        );
    }
}
