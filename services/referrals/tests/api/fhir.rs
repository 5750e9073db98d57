use crate::helpers::*;
use serde_json::{json, Value};

pub fn service_request(patient: &str, ubrn: &str) -> Value {
    json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "system": "https://fhir.nhs.uk/Id/UBRN", "value": ubrn }],
        "status": "active",
        "intent": "order",
        "priority": "asap",
        "category": [
            { "coding": [{ "system": "https://tessera.nhs.uk/CodeSystem/main-specialty", "code": "101" }] },
            { "coding": [{ "system": "https://tessera.nhs.uk/CodeSystem/treatment-function", "code": "101" }] }
        ],
        "subject": { "reference": format!("Patient/{patient}") },
        "authoredOn": days_ago(4).to_string(),
        "requester": { "identifier": { "system": "https://tessera.nhs.uk/Id/referrer-code", "value": "G7654321" }, "display": "B82001" },
        "performer": [{ "identifier": { "system": "https://tessera.nhs.uk/Id/team", "value": "URO" }, "display": "Urology 2WW clinic" }],
        "supportingInfo": [{ "reference": "https://docs.example.nhs.uk/letters/9", "display": "Letter" }]
    })
}

#[tokio::test]
async fn service_requests_are_created_read_and_searched_as_fhir() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "uro-1", "URO");
    let p = app.known_patient(0).await;
    let u = ubrn();
    let r = app
        .req(reqwest::Method::POST, "/fhir/ServiceRequest", &t)
        .header("content-type", "application/fhir+json")
        .body(service_request(&p, &u).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+json"));
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let sr: Value = r.json().await.unwrap();
    assert_eq!(sr["resourceType"], "ServiceRequest");
    assert_eq!(sr["identifier"][0]["value"], u.as_str());
    assert_eq!(sr["priority"], "asap");
    assert_eq!(sr["status"], "active");
    assert_eq!(sr["subject"]["reference"], format!("Patient/{p}"));
    assert_eq!(
        loc,
        format!("/fhir/ServiceRequest/{}", sr["id"].as_str().unwrap())
    );

    // The same referral through the JSON API: a two-week-wait e-RS referral.
    let (s, j) = app
        .get(&format!("/referrals/{}", sr["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (j["source"].as_str(), j["priority"].as_str()),
        (Some("e-rs"), Some("two-week-wait"))
    );

    let (s, v) = app.get(&loc, &t).await;
    assert_eq!(s, 200);
    assert_eq!(v["extension"][0]["valueCoding"]["code"], "AWAITING_TRIAGE");
    let (s, b) = app
        .get(
            &format!("/fhir/ServiceRequest?identifier=https://fhir.nhs.uk/Id/UBRN|{u}"),
            &t,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["total"], 1);
    let (_, b) = app
        .get(&format!("/fhir/ServiceRequest?patient=Patient/{p}"), &t)
        .await;
    assert_eq!(b["entry"][0]["resource"]["id"], sr["id"]);

    // Errors are OperationOutcomes that point at the element.
    let mut bad = service_request(&p, "123");
    bad["priority"] = json!("whenever");
    let r = app
        .req(reqwest::Method::POST, "/fhir/ServiceRequest", &t)
        .header("content-type", "application/fhir+json")
        .body(bad.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let exprs: Vec<String> = oo["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expression"][0].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        exprs.contains(&"ServiceRequest.priority".to_string()),
        "{exprs:?}"
    );
    let (s, oo) = app
        .get(&format!("/fhir/ServiceRequest/{}", patient()), &t)
        .await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (404, Some("OperationOutcome"))
    );
    let (s, oo) = app
        .get("/fhir/ServiceRequest?identifier=http://other|1", &t)
        .await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (422, Some("OperationOutcome"))
    );
    let (s, cs) = app.get("/fhir/metadata", &t).await;
    assert_eq!(
        (s, cs["resourceType"].as_str()),
        (200, Some("CapabilityStatement"))
    );
    app.stop().await;
}

/// ADR 23: ServiceRequest search pages with absolute links and the true total; an unknown
/// parameter is refused unless the client asks for leniency; the CapabilityStatement is dated.
#[tokio::test]
async fn service_request_search_pages_with_absolute_links_and_the_true_total() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "uro-1", "URO");
    let p = app.known_patient(0).await;
    for _ in 0..3 {
        let r = app
            .req(reqwest::Method::POST, "/fhir/ServiceRequest", &t)
            .header("content-type", "application/fhir+json")
            .body(service_request(&p, &ubrn()).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let (s, b) = app
        .get(
            &format!("/fhir/ServiceRequest?patient=Patient/{p}&_count=2"),
            &t,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["total"], 3);
    assert_eq!(b["entry"].as_array().map(Vec::len), Some(2));
    let base = format!("{}/fhir", app.base);
    let id = b["entry"][0]["resource"]["id"].as_str().unwrap();
    assert_eq!(
        b["entry"][0]["fullUrl"],
        format!("{base}/ServiceRequest/{id}")
    );
    let next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .unwrap()
        .to_string();
    let (_, rest) = app.get(next.strip_prefix(&app.base).unwrap(), &t).await;
    assert_eq!(rest["entry"].as_array().map(Vec::len), Some(1));
    let (s, oo) = app
        .get(
            &format!("/fhir/ServiceRequest?patient=Patient/{p}&colour=red"),
            &t,
        )
        .await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (400, Some("OperationOutcome"))
    );
    let r = app
        .req(
            reqwest::Method::GET,
            &format!("/fhir/ServiceRequest?patient=Patient/{p}&colour=red"),
            &t,
        )
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, cs) = app.get("/fhir/metadata", &t).await;
    assert!(cs["date"].is_string(), "{cs}");
    app.stop().await;
}
