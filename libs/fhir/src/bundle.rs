//! The `searchset` Bundle: absolute `fullUrl` for every entry, `self` and (when there are
//! more) `next` and `previous` links on the same base, and `total` the number of matches, not
//! the page size.
use crate::prune::prune;
use crate::search::Search;
use serde_json::{json, Value};

/// One match: its absolute `fullUrl`, the resource (pruned), and how it was found.
pub fn entry(
    base: &str,
    resource_type: &str,
    id: &str,
    mut resource: Value,
    search: Value,
) -> Value {
    prune(&mut resource);
    json!({ "fullUrl": format!("{base}/{resource_type}/{id}"), "resource": resource, "search": search })
}

/// A match found by the search's criteria.
pub fn matched(base: &str, resource_type: &str, id: &str, resource: Value) -> Value {
    entry(
        base,
        resource_type,
        id,
        resource,
        json!({ "mode": "match" }),
    )
}

/// The Bundle for one page of `search` at `path` (e.g. `Patient`) under `base`; `total`
/// matches in all.
pub fn searchset(
    base: &str,
    path: &str,
    search: &Search,
    total: usize,
    entries: Vec<Value>,
) -> Value {
    let link = |relation: &str, offset: usize| json!({ "relation": relation, "url": format!("{base}/{path}?{}", search.query_at(offset)) });
    let mut links = vec![link("self", search.offset)];
    if search.count > 0 && search.offset + search.count < total {
        links.push(link("next", search.offset + search.count));
    }
    if search.offset > 0 && search.count > 0 {
        links.push(link("previous", search.offset.saturating_sub(search.count)));
    }
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    });
    prune(&mut bundle);
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str) -> Search {
        Search::parse(q, None, &["family"]).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn a_middle_page_links_both_ways_with_the_true_total() {
        let s = search("family=Smith&_count=2&_offset=2");
        let entries = vec![matched(
            "https://h/fhir",
            "Patient",
            "a",
            json!({ "resourceType": "Patient", "id": "a", "identifier": [] }),
        )];
        let b = searchset("https://h/fhir", "Patient", &s, 7, entries);
        assert_eq!(b["total"], 7);
        assert_eq!(b["entry"][0]["fullUrl"], "https://h/fhir/Patient/a");
        assert!(b["entry"][0]["resource"].get("identifier").is_none());
        let rel = |r: &str| {
            b["link"]
                .as_array()
                .and_then(|l| l.iter().find(|x| x["relation"] == r))
                .map(|x| x["url"].clone())
        };
        assert_eq!(
            rel("self"),
            Some(json!(
                "https://h/fhir/Patient?family=Smith&_count=2&_offset=2"
            ))
        );
        assert_eq!(
            rel("next"),
            Some(json!(
                "https://h/fhir/Patient?family=Smith&_count=2&_offset=4"
            ))
        );
        assert_eq!(
            rel("previous"),
            Some(json!("https://h/fhir/Patient?family=Smith&_count=2"))
        );
    }

    #[test]
    fn no_matches_has_no_entry_array_and_no_next() {
        let b = searchset("https://h/fhir", "Patient", &search("family=X"), 0, vec![]);
        assert!(b.get("entry").is_none());
        assert_eq!(b["total"], 0);
        assert_eq!(b["link"].as_array().map(Vec::len), Some(1));
    }
}
