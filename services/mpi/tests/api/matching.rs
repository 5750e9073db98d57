//! `$match` and registration's possible duplicates: scored, explained, within one trust.
use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn match_ranks_the_same_person_first_and_explains_each_field() {
    let app = TestApp::spawn(2).await;
    let jane = app.registered(0, &jane(Some("9434765919"))).await;
    let mut other = jane_like("Omar", "Haddad", "1991-07-30");
    other["addresses"] = json!([{ "lines": ["9 Mill Lane"], "postcode": "M1 1AE" }]);
    app.registered(0, &other).await;

    // A typo in the given name, and no NHS number: still Jane.
    let probe = json!({ "given": "Jnae", "family": "Testpatient", "birth_date": "1970-01-01", "postcode": "LS1 4AP" });
    let r = app
        .post("/patients/$match", &app.clerk(0), &probe)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["count"], 1, "{v}");
    let c = &v["candidates"][0];
    assert_eq!(c["patient_id"], jane["id"]);
    assert_eq!(c["decision"], "match");
    assert_eq!(c["grade"], "probable");
    let fields = c["explanation"]["fields"].as_array().unwrap();
    let given = fields.iter().find(|f| f["field"] == "given_name").unwrap();
    assert_eq!(given["level"], "typo");
    let total: f64 = fields.iter().map(|f| f["weight"].as_f64().unwrap()).sum();
    assert!((total - c["score"].as_f64().unwrap()).abs() < 0.1);

    // The other trust finds nobody.
    let r = app
        .post("/patients/$match", &app.clerk(1), &probe)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["count"], 0);

    // Nothing to match on: a clear error.
    let r = app
        .post(
            "/patients/$match",
            &app.clerk(0),
            &json!({ "given": "Jane" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn fhir_match_answers_a_bundle_with_scores_and_match_grades() {
    let app = TestApp::spawn(1).await;
    let jane = app.registered(0, &jane(Some("9434765919"))).await;
    let params = json!({
        "resourceType": "Parameters",
        "parameter": [
            { "name": "resource", "resource": {
                "resourceType": "Patient",
                "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" }],
                "name": [{ "family": "Testpatient", "given": ["Jane"] }],
                "birthDate": "1970-01-01", "gender": "female"
            }},
            { "name": "count", "valueInteger": 3 }
        ]
    });
    let r = app
        .post("/fhir/Patient/$match", &app.clerk(0), &params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["total"], 1);
    let e = &b["entry"][0];
    assert_eq!(e["resource"]["id"], jane["id"]);
    assert_eq!(e["search"]["mode"], "match");
    assert!(e["search"]["score"].as_f64().unwrap() > 0.95);
    assert_eq!(
        e["search"]["extension"][0]["url"],
        "http://hl7.org/fhir/StructureDefinition/match-grade"
    );
    assert_eq!(e["search"]["extension"][0]["valueCode"], "certain");

    let r = app
        .post(
            "/fhir/Patient/$match",
            &app.clerk(0),
            &json!({ "resourceType": "Patient" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    app.stop().await;
}

#[tokio::test]
async fn registering_a_likely_duplicate_reports_it_for_review() {
    let app = TestApp::spawn(1).await;
    let first = app.registered(0, &jane(None)).await;
    let mut again = jane(None);
    again["names"][0]["given"] = json!(["Jayne"]);
    let second = app.registered(0, &again).await;
    assert_ne!(
        second["id"], first["id"],
        "registration never merges by itself"
    );
    let dups = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{second}");
    assert_eq!(dups[0]["patient_id"], first["id"]);
    let unrelated = app
        .registered(0, &jane_like("Omar", "Haddad", "1991-07-30"))
        .await;
    assert_eq!(unrelated["possible_duplicates"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn each_trust_has_its_own_thresholds_and_learns_its_own_weights() {
    let app = TestApp::spawn(2).await;
    let s: Value = app
        .get("/match-settings", &app.clerk(0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["trained_on"], 0);
    assert_eq!(s["thresholds"]["link"], 12.0);
    assert!(s["weights"]["given_name"]["exact"].as_f64().unwrap() > 0.0);

    for i in 0..2 {
        app.registered(i, &jane(Some("9434765919"))).await;
    }
    let probe = json!({ "given": "Jnae", "family": "Testpatient", "birth_date": "1970-01-01", "postcode": "LS1 4AP" });
    let count = |i: usize| {
        let probe = probe.clone();
        let app = &app;
        async move {
            let v: Value = app
                .post("/patients/$match", &app.clerk(i), &probe)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count(0).await, 1);
    // Trust 0 raises its bar above this pair's score; trust 1 is unaffected.
    let r = app
        .put(
            "/match-settings/thresholds",
            &app.clerk(0),
            &json!({ "link": 59.0, "review": 58.0 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(count(0).await, 0);
    assert_eq!(count(1).await, 1);
    // Nonsense thresholds are refused.
    let r = app
        .put(
            "/match-settings/thresholds",
            &app.clerk(0),
            &json!({ "link": 5.0, "review": 9.0 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .put(
            "/match-settings/thresholds",
            &app.token(app.tenant(0), &[VIEW]),
            &json!({ "link": 12.0, "review": 5.0 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Learning from trust 1's own records: weights change, thresholds stay.
    for (i, (g, f, d)) in [
        ("Ann", "Ames", "1950-01-02"),
        ("Bob", "Bell", "1960-03-04"),
        ("Cat", "Cole", "1970-05-06"),
        ("Dan", "Dorr", "1980-07-08"),
        ("Eve", "Ezra", "1990-09-10"),
        ("Fay", "Ford", "2000-11-12"),
    ]
    .iter()
    .enumerate()
    {
        let mut p = jane_like(g, f, d);
        p["addresses"] = json!([{ "lines": [format!("{i} Road")], "postcode": "LS2 7EY" }]);
        app.registered(1, &p).await;
    }
    let r = app
        .post("/match-settings/train", &app.clerk(1), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["trained_on"], 7);
    assert!(s["trained_at"].is_string());
    assert_eq!(s["thresholds"]["link"], 12.0);
    let s0: Value = app
        .get("/match-settings", &app.clerk(0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s0["trained_on"], 0);
    assert_eq!(s0["thresholds"]["link"], 59.0);
    // The learned model is in use: the same person still matches in trust 1.
    assert_eq!(count(1).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn with_auto_link_on_a_registration_that_scores_match_is_merged_and_can_be_undone() {
    let app = TestApp::spawn(2).await;
    let r = app
        .put(
            "/match-settings/thresholds",
            &app.clerk(0),
            &json!({ "link": 12.0, "review": 5.0, "auto_link": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["auto_link"], true);
    let mut again = jane(None);
    again["names"][0]["given"] = json!(["Jnae"]);
    let mut ids = Vec::new();
    for i in 0..2 {
        let first = app.registered(i, &jane(Some("9434765919"))).await;
        let second = app.registered(i, &again).await;
        assert_eq!(
            second["possible_duplicates"][0]["decision"], "match",
            "{second}"
        );
        ids.push((first, second));
    }
    // Trust 0 auto-links: the new record is merged into the existing one at once.
    let (first, second) = &ids[0];
    assert_eq!(second["merged_into"], first["id"]);
    assert_eq!(second["active"], false);
    let v: Value = app
        .get(
            &format!("/patients/{}", second["id"].as_str().unwrap()),
            &app.clerk(0),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], first["id"]);
    let q: Value = app
        .get("/match-reviews?status=confirmed", &app.clerk(0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["count"], 1);
    assert_eq!(q["reviews"][0]["decided_by"], "auto-link");
    // ...and a person can undo it like any merge.
    let merge_id = q["reviews"][0]["merge_id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/merges/{merge_id}/unmerge"),
            &app.clerk(0),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = app
        .get(
            &format!("/patients/{}", second["id"].as_str().unwrap()),
            &app.clerk(0),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], second["id"]);
    assert_eq!(v["active"], true);
    // Trust 1 (auto-link off, the default): both stay, the pair waits for a person.
    let (_, second) = &ids[1];
    assert_eq!(second["active"], true);
    assert!(second.get("merged_into").is_none());
    let q: Value = app
        .get("/match-reviews", &app.clerk(1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["count"], 1);
    app.stop().await;
}
