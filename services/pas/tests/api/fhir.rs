//! FHIR R4 UK Core: spells as `Encounter`s (with their bed history and consultants), wards
//! and beds as `Location`s; `OperationOutcome` for what is wrong. (CI parses every FHIR
//! answer the tests receive with `fhir.resources`.)
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn spells_read_as_encounters_and_wards_and_beds_as_locations() {
    let app = TestApp::spawn(2).await;
    let staff = app.staff(0);
    let (ward, beds) = app.ward(0, "FHIRW", 3).await;
    let p = app.patient(0).await;
    let spell = app.admit(0, &p, &beds[0]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds[1] }),
        )
        .await;
    assert_eq!(s, 200);

    let (s, e) = app.get(&format!("/fhir/Encounter/{spell}"), &staff).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(
        (e["resourceType"].as_str(), e["status"].as_str()),
        (Some("Encounter"), Some("in-progress"))
    );
    assert_eq!(e["class"]["code"], "IMP");
    assert_eq!(e["subject"]["reference"], format!("Patient/{p}"));
    let locations = e["location"].as_array().unwrap();
    assert_eq!(locations.len(), 2);
    assert_eq!(locations[0]["status"], "completed");
    assert_eq!(locations[1]["status"], "active");
    assert_eq!(
        locations[1]["location"]["reference"],
        format!("Location/{}", beds[1])
    );
    assert_eq!(
        e["hospitalization"]["admitSource"]["coding"][0]["code"],
        "19"
    );
    assert!(
        e.get("hospitalization")
            .and_then(|h| h.get("dischargeDisposition"))
            .is_none(),
        "no empty elements"
    );

    let (s, _) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = app
        .get(
            &format!("/fhir/Encounter?patient=Patient/{p}&status=finished"),
            &staff,
        )
        .await;
    assert_eq!((s, b["total"].as_i64()), (200, Some(1)), "{b}");
    assert!(b["entry"][0]["resource"]["period"]["end"].is_string());
    let (_, b) = app
        .get(
            &format!("/fhir/Encounter?patient={p}&status=in-progress"),
            &staff,
        )
        .await;
    assert_eq!(b["total"].as_i64(), Some(0), "{b}");

    // The ward and its beds: the bed the patient left is being cleaned (H).
    let (s, w) = app.get(&format!("/fhir/Location/{ward}"), &staff).await;
    assert_eq!(
        (s, w["physicalType"]["coding"][0]["code"].as_str()),
        (200, Some("wa")),
        "{w}"
    );
    let (s, b) = app
        .get(&format!("/fhir/Location?partof=Location/{ward}"), &staff)
        .await;
    assert_eq!((s, b["total"].as_i64()), (200, Some(3)), "{b}");
    let statuses: Vec<&str> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["resource"]["operationalStatus"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["U", "H", "U"]);
    let (s, bed) = app
        .get(&format!("/fhir/Location/{}", beds[1]), &staff)
        .await;
    assert_eq!(
        (s, bed["partOf"]["reference"].as_str()),
        (200, Some(format!("Location/{ward}").as_str())),
        "{bed}"
    );
    let (s, l) = app.get("/fhir/Location", &staff).await;
    assert_eq!((s, l["total"].as_i64()), (200, Some(1)), "{l}");

    // What is wrong is an OperationOutcome; another trust sees nothing.
    let (s, o) = app.get("/fhir/Encounter?status=sleeping", &staff).await;
    assert_eq!(
        (s, o["resourceType"].as_str()),
        (422, Some("OperationOutcome")),
        "{o}"
    );
    let (s, o) = app.get("/fhir/Encounter?colour=blue", &staff).await;
    assert_eq!(
        (s, o["resourceType"].as_str()),
        (400, Some("OperationOutcome")),
        "{o}"
    );
    let (s, o) = app
        .get(&format!("/fhir/Encounter/{}", uuid::Uuid::new_v4()), &staff)
        .await;
    assert_eq!(
        (s, o["resourceType"].as_str()),
        (404, Some("OperationOutcome")),
        "{o}"
    );
    let (s, _) = app
        .get(&format!("/fhir/Encounter/{spell}"), &app.staff(1))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get(&format!("/fhir/Location/{ward}"), &app.staff(1))
        .await;
    assert_eq!(s, 404);
    let (s, m) = app.get("/fhir/metadata", &staff).await;
    assert_eq!(
        (s, m["resourceType"].as_str()),
        (200, Some("CapabilityStatement"))
    );
    app.stop().await;
}
