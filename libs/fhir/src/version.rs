//! Versions, one way for every resource: `meta.versionId` and `meta.lastUpdated`, the weak
//! `ETag` (`W/"3"`), `If-Match` read back to a version, and the `history` Bundle of a
//! resource's versions.
use crate::prune::prune;
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tessera_edge::problem::ApiError;

/// The weak entity tag of `version`: `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// `meta` with the version and when it was recorded (and a profile, if given).
pub fn meta(version: i64, updated: DateTime<Utc>, profile: Option<&str>) -> Value {
    let mut m = json!({ "versionId": version.to_string(), "lastUpdated": updated.to_rfc3339() });
    if let Some(p) = profile {
        m["profile"] = json!([p]);
    }
    m
}

/// `If-Match: W/"3"` (or `"3"`, or `3`): the version the caller read, to update only if it
/// is still current. Anything else is a 400: a client must not update blind by mistake.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    match req.headers().get("If-Match") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(parse_tag)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request("If-Match must be an ETag from a read, e.g. W/\"3\"")
            }),
    }
}

fn parse_tag(s: &str) -> Option<i64> {
    s.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .ok()
}

/// One version of a resource, for its history.
pub struct Version {
    pub version: i64,
    pub recorded: DateTime<Utc>,
    pub resource: Value,
}

/// The `history` Bundle of `<resource_type>/<id>` under `base`, in the order given (newest
/// first, as FHIR asks): version 1 as its `POST`, later ones as `PUT`s.
pub fn history(base: &str, resource_type: &str, id: &str, versions: Vec<Version>) -> Value {
    let entries: Vec<Value> = versions
        .into_iter()
        .map(|v| {
            let mut resource = v.resource;
            prune(&mut resource);
            let (method, status) = if v.version == 1 {
                ("POST", "201")
            } else {
                ("PUT", "200")
            };
            json!({
                "fullUrl": format!("{base}/{resource_type}/{id}"),
                "resource": resource,
                "request": { "method": method, "url": format!("{resource_type}/{id}") },
                "response": { "status": status, "etag": etag(v.version),
                    "lastModified": v.recorded.to_rfc3339() },
            })
        })
        .collect();
    let mut b = json!({
        "resourceType": "Bundle",
        "type": "history",
        "total": entries.len(),
        "link": [{ "relation": "self", "url": format!("{base}/{resource_type}/{id}/_history") }],
        "entry": entries,
    });
    prune(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_back_to_versions() {
        assert_eq!(etag(3), "W/\"3\"");
        for (s, v) in [
            ("W/\"3\"", Some(3)),
            ("\"3\"", Some(3)),
            ("3", Some(3)),
            ("0", Some(0)),
        ] {
            assert_eq!(parse_tag(s), v, "{s}");
        }
        for bad in ["W/\"x\"", "", "W/\"\u{a0}\"", "W/3x"] {
            assert_eq!(parse_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_history_names_each_version_with_its_tag() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let v = |n| Version {
            version: n,
            recorded: t,
            resource: json!({ "resourceType": "Patient", "id": "p", "identifier": [] }),
        };
        let b = history("https://x/fhir", "Patient", "p", vec![v(2), v(1)]);
        assert_eq!(b["total"], 2);
        assert_eq!(b["entry"][0]["request"]["method"], "PUT");
        assert_eq!(b["entry"][1]["response"]["status"], "201");
        assert_eq!(b["entry"][1]["response"]["etag"], "W/\"1\"");
        assert!(b["entry"][0]["resource"].get("identifier").is_none());
        assert_eq!(meta(2, t, None)["versionId"], "2");
    }
}
