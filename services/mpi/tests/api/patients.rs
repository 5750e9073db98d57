use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_registered_patient_can_be_read_found_and_updated_with_history_kept() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(p["version"], 1);
    assert_eq!(p["nhs_number"], "9434765919");
    // A local hospital number for this trust is assigned when none is given.
    assert_eq!(p["local_numbers"][0]["assigner"], app.tenant(0));

    let r = app
        .get(&format!("/patients/{id}"), &clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "W/\"1\"");

    let found: Value = app
        .get("/patients?nhs_number=943 476 5919", &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["count"], 1);
    assert_eq!(found["patients"][0]["id"], id);

    let local = p["local_numbers"][0]["value"].as_str().unwrap();
    let found: Value = app
        .get(&format!("/patients?local_number={local}"), &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["patients"][0]["id"], id);

    let found: Value = app
        .get("/patients?family=testpat&birth_date=1970-01-01", &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["count"], 1);

    // Move house: the old address is kept in history, never overwritten.
    let mut moved = jane(Some("9434765919"));
    moved["addresses"] = json!([
        { "lines": ["1 High Street"], "postcode": "LS1 4AP", "use": "old", "period_start": "2020-01-01", "period_end": "2026-01-01" },
        { "lines": ["2 Low Road"], "postcode": "M1 1AE", "period_start": "2026-01-02" }
    ]);
    let r = app
        .put(&format!("/patients/{id}"), &clerk, &moved)
        .header("If-Match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let updated: Value = app
        .get(&format!("/patients/{id}"), &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updated["version"], 2);
    // The local number given at registration survives an update that omits it.
    assert_eq!(updated["local_numbers"], p["local_numbers"]);

    let h: Value = app
        .get(&format!("/patients/{id}/history"), &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let versions = h["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[0]["demographics"]["addresses"][0]["lines"][0],
        "1 High Street"
    );
    assert_eq!(
        versions[1]["demographics"]["addresses"][1]["postcode"],
        "M1 1AE"
    );

    // A stale If-Match is refused and changes nothing.
    let r = app
        .put(
            &format!("/patients/{id}"),
            &clerk,
            &jane(Some("9434765919")),
        )
        .header("If-Match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let again: Value = app
        .get(&format!("/patients/{id}"), &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], 2);
    app.stop().await;
}

#[tokio::test]
async fn an_nhs_number_is_registered_once_per_trust() {
    let app = TestApp::spawn(1).await;
    app.registered(0, &jane(Some("9990000018"))).await;
    let r = app.register(&app.clerk(0), &jane(Some("9990000018"))).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "patient.duplicate-nhs-number");
    assert_eq!(app.patient_count(0).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_patient_without_an_nhs_number_can_be_registered() {
    let app = TestApp::spawn(1).await;
    let p = app.registered(0, &jane(None)).await;
    assert!(p["nhs_number"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_search_needs_a_family_name_or_date_of_birth() {
    let app = TestApp::spawn(1).await;
    let r = app
        .get("/patients?given=jane", &app.clerk(0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .get("/patients?colour=blue", &app.clerk(0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn(1).await;
    let live = app
        .client
        .get(format!("{}/livez", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["checks"]["database"]["ok"], true);
    assert_eq!(ready["checks"]["broker"]["ok"], true);
    // The public port names no trust and serves no metrics; the management port does both.
    assert!(!ready.to_string().contains(app.tenant(0)), "{ready}");
    let public_metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public_metrics.status(), 404);
    let detailed: Value = app
        .client
        .get(format!("{}/readyz", app.management))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detailed["checks"]["tenants"]["detail"][app.tenant(0)]["state"],
        "ready"
    );
    app.get("/patients?family=x", &app.clerk(0))
        .send()
        .await
        .unwrap();
    let metrics = app
        .client
        .get(format!("{}/metrics", app.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("tessera_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/patients\""));
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route the service answers is described.
    for path in [
        "/patients",
        "/patients/{id}",
        "/patients/{id}/history",
        "/patients/{id}/merges",
        "/patients/$match",
        "/merges",
        "/merges/{id}/unmerge",
        "/match-reviews",
        "/match-reviews/{id}/confirm",
        "/match-reviews/{id}/reject",
        "/match-settings",
        "/match-settings/thresholds",
        "/match-settings/train",
        "/hl7/v2",
        "/auth/logout",
        "/fhir/metadata",
        "/fhir/Patient",
        "/fhir/Patient/{id}",
        "/fhir/Patient/$match",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} is not in openapi.json"
        );
    }
    // The served document is the one the app's mounted routes produce, each with its row of
    // the operation table, and every operation it lists reaches a handler.
    let ops = tessera_mpi::api::operations();
    let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let unserved =
        tessera_testkit::contract::probe_documented_routes(&app.client, &app.base, &doc).await;
    assert!(unserved.is_empty(), "{unserved:#?}");
    app.stop().await;
}

/// ADR 20: a PUT replaces the demographics it describes, but never drops an identifier by
/// omission; an NHS number is corrected by sending the right one.
#[tokio::test]
async fn a_put_that_leaves_out_the_nhs_number_keeps_it_and_a_new_one_corrects_it() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let p = app.registered(0, &jane(Some("9434765919"))).await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut renamed = jane(None);
    renamed["names"] = json!([{ "family": "Newname", "given": ["Jane"] }]);
    let r = app
        .put(&format!("/patients/{id}"), &clerk, &renamed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.unwrap();
    assert_eq!(now["nhs_number"], "9434765919", "{now}");
    assert_eq!(now["names"][0]["family"], "Newname");
    // Through FHIR, a Patient without identifiers keeps them too.
    let fhir = json!({ "resourceType": "Patient", "id": id,
        "name": [{ "family": "Fhirname", "given": ["Jane"] }],
        "gender": "female", "birthDate": "1970-01-01" });
    let r = app
        .put(&format!("/fhir/Patient/{id}"), &clerk, &fhir)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let found: Value = app
        .get("/patients?nhs_number=9434765919", &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["count"], 1);
    assert_eq!(found["patients"][0]["id"], id.as_str());
    // A different, valid NHS number replaces the old one (a correction).
    let r = app
        .put(
            &format!("/patients/{id}"),
            &clerk,
            &jane(Some("9434765870")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.unwrap();
    assert_eq!(now["nhs_number"], "9434765870");
    app.stop().await;
}
