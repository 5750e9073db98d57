use crate::helpers::*;
use serde_json::{json, Value};

fn fhir_jane(nhs: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{
            "system": "https://fhir.nhs.uk/Id/nhs-number",
            "value": nhs,
            "extension": [{
                "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                "valueCodeableConcept": { "coding": [{ "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "01" }] }
            }]
        }],
        "name": [{ "use": "official", "family": "Fhirpatient", "given": ["Ada"] }],
        "gender": "female",
        "birthDate": "1985-06-15",
        "address": [{ "use": "home", "line": ["3 Mill Lane"], "city": "Leeds", "postalCode": "LS2 7AB" }],
        "telecom": [{ "system": "email", "value": "ada@example.org" }],
        "generalPractitioner": [{ "identifier": { "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B82001" } }]
    })
}

#[tokio::test]
async fn fhir_create_read_search_and_update_round_trip_uk_core_patient() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let r = app
        .post("/fhir/Patient", &clerk, &fhir_jane("9000000009"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["meta"]["versionId"], "1");
    assert_eq!(
        created["identifier"][0]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(
        created["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "01"
    );
    assert_eq!(created["identifier"][1]["type"]["coding"][0]["code"], "MR");
    assert_eq!(
        created["generalPractitioner"][0]["identifier"]["value"],
        "B82001"
    );

    let read: Value = app
        .get(&format!("/fhir/Patient/{id}"), &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, created);

    for q in [
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
        "family=fhirpat&birthdate=1985-06-15",
        "family=Fhirpatient&given=ada&gender=female",
        "birthdate=eq1985-06-15&address-postalcode=LS27AB",
    ] {
        let b: Value = app
            .get(&format!("/fhir/Patient?{q}"), &clerk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(b["resourceType"], "Bundle", "{q}");
        assert_eq!(b["type"], "searchset");
        assert_eq!(b["total"], 1, "{q}");
        assert_eq!(b["entry"][0]["resource"]["id"], id);
        assert_eq!(b["entry"][0]["search"]["mode"], "match");
    }
    let none: Value = app
        .get("/fhir/Patient?family=Fhirpatient&gender=male", &clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);
    let r = app
        .get("/fhir/Patient?name=x", &clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");

    let mut changed = created.clone();
    changed["name"][0]["family"] = json!("Lovelace");
    let r = app
        .put(&format!("/fhir/Patient/{id}"), &clerk, &changed)
        .header("If-Match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["meta"]["versionId"], "2");
    assert_eq!(updated["name"][0]["family"], "Lovelace");
    let r = app
        .put(&format!("/fhir/Patient/{id}"), &clerk, &changed)
        .header("If-Match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let mut wrong_id = changed.clone();
    wrong_id["id"] = json!(uuid::Uuid::now_v7().to_string());
    assert_eq!(
        app.put(&format!("/fhir/Patient/{id}"), &clerk, &wrong_id)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    let cs: Value = app
        .client
        .get(format!("{}/fhir/metadata", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    app.stop().await;
}

#[tokio::test]
async fn a_resource_that_is_not_a_patient_is_refused() {
    let app = TestApp::spawn(1).await;
    let r = app
        .post(
            "/fhir/Patient",
            &app.clerk(0),
            &json!({ "resourceType": "Observation" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(app.patient_count(0).await, 0);
    app.stop().await;
}
