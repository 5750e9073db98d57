//! The `CapabilityStatement` every FHIR endpoint serves at `/fhir/metadata`, built one way:
//! a service names its resources, their interactions, search parameters and operations; the
//! paging parameters every search takes (`_count`, `_offset`) and the rest are added here.
use serde_json::{json, Value};

/// One resource type a service serves.
pub struct Resource {
    pub kind: &'static str,
    pub profile: Option<&'static str>,
    /// FHIR interaction codes: `read`, `vread`, `history-instance`, `search-type`, `create`,
    /// `update`.
    pub interactions: &'static [&'static str],
    /// `(name, type)`; `_count` and `_offset` are added for every searchable resource.
    pub search: &'static [(&'static str, &'static str)],
    /// `(name, canonical definition)`.
    pub operations: &'static [(&'static str, &'static str)],
}

/// A service's FHIR capabilities.
pub struct Capability {
    /// `Tessera MPI`.
    pub software: &'static str,
    /// When the statement last changed (`YYYY-MM-DD`).
    pub published: &'static str,
    pub resources: &'static [Resource],
}

impl Capability {
    pub fn json(&self) -> Value {
        let resources: Vec<Value> = self.resources.iter().map(resource).collect();
        json!({
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": self.published,
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "software": { "name": self.software, "version": env!("CARGO_PKG_VERSION") },
            "implementation": { "description": self.software },
            "rest": [{
                "mode": "server",
                "security": { "description": "Bearer JWT carrying the selected NHS role (CIS2-style claims)" },
                "resource": resources,
            }]
        })
    }

    /// The statement as an answer.
    pub fn response(&self) -> actix_web::HttpResponse {
        actix_web::HttpResponse::Ok()
            .content_type(crate::FHIR_JSON)
            .body(self.json().to_string())
    }
}

fn resource(r: &Resource) -> Value {
    let mut v = json!({
        "type": r.kind,
        "interaction": r.interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
    });
    if let Some(p) = r.profile {
        v["profile"] = json!(p);
    }
    if r.interactions.contains(&"vread") || r.interactions.contains(&"history-instance") {
        v["versioning"] = json!("versioned");
    }
    if r.interactions.contains(&"search-type") {
        let common = [("_count", "number"), ("_offset", "number")];
        let params: Vec<Value> = r
            .search
            .iter()
            .chain(common.iter())
            .map(|(name, kind)| json!({ "name": name, "type": kind }))
            .collect();
        v["searchParam"] = json!(params);
    }
    if !r.operations.is_empty() {
        let ops: Vec<Value> = r
            .operations
            .iter()
            .map(|(name, definition)| json!({ "name": name, "definition": definition }))
            .collect();
        v["operation"] = json!(ops);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const CS: Capability = Capability {
        software: "Tessera test",
        published: "2026-11-26",
        resources: &[
            Resource {
                kind: "Patient",
                profile: Some("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"),
                interactions: &["read", "vread", "search-type"],
                search: &[("family", "string")],
                operations: &[(
                    "match",
                    "http://hl7.org/fhir/OperationDefinition/Patient-match",
                )],
            },
            Resource {
                kind: "AuditEvent",
                profile: None,
                interactions: &["read"],
                search: &[],
                operations: &[],
            },
        ],
    };

    #[test]
    fn a_statement_has_its_date_paging_and_operations_and_no_empty_elements() {
        let v = CS.json();
        assert_eq!(v["date"], "2026-11-26");
        let patient = &v["rest"][0]["resource"][0];
        assert_eq!(patient["versioning"], "versioned");
        let names: Vec<&str> = patient["searchParam"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["family", "_count", "_offset"]);
        assert_eq!(patient["operation"][0]["name"], "match");
        let audit = &v["rest"][0]["resource"][1];
        assert!(audit.get("searchParam").is_none() && audit.get("operation").is_none());
        assert!(audit.get("profile").is_none() && audit.get("versioning").is_none());
    }
}
