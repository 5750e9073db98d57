//! ADR 23: FHIR search as strict clients expect it — pages with absolute links and the true
//! total, strict or lenient parameters, birthdate prefixes and partial dates, `_history`, no
//! empty elements, 404 and 406 as `OperationOutcome`s, a CapabilityStatement with its date
//! and `$match`.
use crate::helpers::*;
use serde_json::{json, Value};

async fn fhir(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app.get(path, token).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(ct.as_deref(), Some("application/fhir+json"), "{path}");
    (status, r.json().await.unwrap())
}

/// Whether any array, object or string in `v` is empty (FHIR forbids them).
fn has_empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty() || a.iter().any(has_empty),
        Value::Object(o) => o.is_empty() || o.values().any(has_empty),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn link(b: &Value, relation: &str) -> Option<String> {
    b["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

#[tokio::test]
async fn a_search_pages_with_absolute_links_and_the_true_total() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    for (given, dob) in [
        ("Ann", "1960-01-10"),
        ("Bea", "1961-02-11"),
        ("Cat", "1962-03-12"),
        ("Dot", "1963-04-13"),
        ("Eve", "1964-05-14"),
    ] {
        app.registered(0, &jane_like(given, "Pagewell", dob)).await;
    }
    let (s, first) = fhir(&app, "/fhir/Patient?family=Pagewell&_count=2", &clerk).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        first["total"], 5,
        "the number of matches, not the page size"
    );
    assert_eq!(first["entry"].as_array().map(Vec::len), Some(2));
    let base = format!("{}/fhir", app.base);
    for e in first["entry"].as_array().unwrap() {
        let id = e["resource"]["id"].as_str().unwrap();
        assert_eq!(e["fullUrl"], format!("{base}/Patient/{id}"));
    }
    assert!(link(&first, "self")
        .unwrap()
        .starts_with(&format!("{base}/Patient?")));
    assert!(link(&first, "previous").is_none());
    // Follow `next` to the end: every match once, and the last page has no `next`.
    let mut seen: Vec<String> = vec![];
    let mut page = first;
    loop {
        for e in page["entry"].as_array().unwrap() {
            seen.push(
                e["resource"]["name"][0]["given"][0]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let Some(next) = link(&page, "next") else {
            break;
        };
        let path = next.strip_prefix(&app.base).unwrap().to_string();
        let (s, p) = fhir(&app, &path, &clerk).await;
        assert_eq!(s, 200);
        assert!(link(&p, "previous").is_some());
        page = p;
    }
    seen.sort();
    assert_eq!(seen, ["Ann", "Bea", "Cat", "Dot", "Eve"]);
    // `_count=0`: the total alone.
    let (_, count) = fhir(&app, "/fhir/Patient?family=Pagewell&_count=0", &clerk).await;
    assert_eq!(count["total"], 5);
    assert!(count.get("entry").is_none(), "{count}");
    // Birthdate prefixes and partial dates.
    for (q, n) in [
        ("ge1962-03-12", 3),
        ("lt1962", 2),
        ("1963", 1),
        ("le1961-02", 2),
        ("gt1964-05-14", 0),
    ] {
        let (s, b) = fhir(
            &app,
            &format!("/fhir/Patient?family=Pagewell&birthdate={q}"),
            &clerk,
        )
        .await;
        assert_eq!(
            (s, b["total"].as_u64()),
            (200, Some(n)),
            "birthdate={q}: {b}"
        );
    }
    let (s, b) = fhir(
        &app,
        "/fhir/Patient?family=Pagewell&birthdate=ge1961&birthdate=lt1963",
        &clerk,
    )
    .await;
    assert_eq!((s, b["total"].as_u64()), (200, Some(2)), "{b}");
    // No matches: no `entry: []`.
    let (_, none) = fhir(&app, "/fhir/Patient?family=Nobodyhere", &clerk).await;
    assert_eq!(none["total"], 0);
    assert!(none.get("entry").is_none());
    app.stop().await;
}

#[tokio::test]
async fn unknown_parameters_are_refused_unless_the_client_asks_for_leniency() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    app.registered(0, &jane_like("Lin", "Lenient", "1970-01-01"))
        .await;
    for q in [
        "family=Lenient&colour=blue",
        "family=Lenient&_count=many",
        "family=Lenient&_count=-2",
    ] {
        let (s, oo) = fhir(&app, &format!("/fhir/Patient?{q}"), &clerk).await;
        assert_eq!(
            (s, oo["resourceType"].as_str()),
            (400, Some("OperationOutcome")),
            "{q}: {oo}"
        );
    }
    let r = app
        .get("/fhir/Patient?family=Lenient&colour=blue", &clerk)
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["total"], 1);
    let own = link(&b, "self").unwrap();
    assert!(
        !own.contains("colour"),
        "the self link shows what was applied: {own}"
    );
    app.stop().await;
}

#[tokio::test]
async fn history_404s_406s_and_the_capability_statement_speak_fhir() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    // A patient with no NHS number, address or telecom: no empty elements for them.
    let p = app
        .registered(0, &jane_like("Hal", "Historian", "1950-05-05"))
        .await;
    let id = p["id"].as_str().unwrap();
    let (_, read) = fhir(&app, &format!("/fhir/Patient/{id}"), &clerk).await;
    for absent in ["address", "telecom", "link", "generalPractitioner"] {
        assert!(read.get(absent).is_none(), "{absent}: {read}");
    }
    assert!(!has_empty(&read), "{read}");
    let mut changed = jane_like("Hal", "Historian-Smith", "1950-05-05");
    changed["administrative_sex"] = json!("male");
    let r = app
        .put(&format!("/patients/{id}"), &clerk, &changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, h) = fhir(&app, &format!("/fhir/Patient/{id}/_history"), &clerk).await;
    assert_eq!(
        (s, h["type"].as_str(), h["total"].as_u64()),
        (200, Some("history"), Some(2)),
        "{h}"
    );
    assert_eq!(h["entry"][0]["resource"]["meta"]["versionId"], "2");
    assert_eq!(
        h["entry"][0]["resource"]["name"][0]["family"],
        "Historian-Smith"
    );
    assert_eq!(h["entry"][1]["resource"]["meta"]["versionId"], "1");
    assert_eq!(h["entry"][1]["resource"]["name"][0]["family"], "Historian");
    // 404s: an unknown patient, an unknown resource type, an unknown operation.
    for path in [
        format!("/fhir/Patient/{}", uuid::Uuid::now_v7()),
        "/fhir/Observation".to_string(),
        format!("/fhir/Patient/{id}/$everything"),
    ] {
        let (s, oo) = fhir(&app, &path, &clerk).await;
        assert_eq!(
            (s, oo["resourceType"].as_str()),
            (404, Some("OperationOutcome")),
            "{path}: {oo}"
        );
    }
    // 406: XML asked for, by Accept or by _format.
    let r = app
        .get(&format!("/fhir/Patient/{id}"), &clerk)
        .header("Accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let (s, _) = fhir(&app, &format!("/fhir/Patient/{id}?_format=xml"), &clerk).await;
    assert_eq!(s, 406);
    let (s, _) = fhir(&app, &format!("/fhir/Patient/{id}?_format=json"), &clerk).await;
    assert_eq!(s, 200);
    // The CapabilityStatement: dated, and it names $match and _history.
    let (s, cs) = fhir(&app, "/fhir/metadata", &clerk).await;
    assert_eq!(s, 200);
    assert!(cs["date"].as_str().is_some_and(|d| d.len() >= 10), "{cs}");
    let patient = &cs["rest"][0]["resource"][0];
    assert_eq!(patient["operation"][0]["name"], "match");
    assert!(patient["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "history-instance"));
    app.stop().await;
}
