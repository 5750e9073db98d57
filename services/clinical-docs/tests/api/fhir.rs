//! FHIR R4 UK Core: a letter as `DocumentReference` and `Composition` at each version
//! (`_history`, vread), found by patient, type, date and status; a template as a versioned
//! `Questionnaire`; an assessment as a `QuestionnaireResponse` naming its exact template
//! version, and its NEWS2 score as an `Observation`. (CI parses every FHIR answer the tests
//! receive with `fhir.resources`.)
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn documents_read_as_versioned_fhir_resources() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-jones");
    let id = app
        .draft(&p, &dr, "Dear Dr Smith,\n<b>not markup</b> & more.")
        .await;
    app.send(
        Method::POST,
        &format!("/documents/{id}/sign"),
        &dr,
        Some(1),
        None,
    )
    .await;
    let a = app
        .send(
            Method::PUT,
            &format!("/documents/{id}"),
            &dr,
            Some(2),
            Some(json!({ "text": "Dear Dr Smith,\nCorrected.", "reason": "typo" })),
        )
        .await;
    assert_eq!(a.status, 200);

    let a = app.get(&format!("/fhir/DocumentReference/{id}"), &dr).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &a.body;
    assert_eq!(
        (
            r["resourceType"].as_str(),
            r["status"].as_str(),
            r["docStatus"].as_str()
        ),
        (Some("DocumentReference"), Some("current"), Some("amended"))
    );
    assert_eq!(r["meta"]["versionId"], "3");
    assert_eq!(r["type"]["coding"][0]["code"], "371531000");
    assert_eq!(r["subject"]["reference"], format!("Patient/{p}"));
    assert_eq!(r["authenticator"]["display"], "dr-jones");
    assert!(r["content"][0]["attachment"]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/documents/{id}/versions/3/content")));

    let a = app
        .get(&format!("/fhir/DocumentReference/{id}/_history/1"), &dr)
        .await;
    assert_eq!(
        (
            a.body["docStatus"].as_str(),
            a.body["meta"]["versionId"].as_str()
        ),
        (Some("preliminary"), Some("1"))
    );
    let a = app
        .get(&format!("/fhir/DocumentReference/{id}/_history"), &dr)
        .await;
    assert_eq!(
        (a.body["type"].as_str(), a.body["total"].as_i64()),
        (Some("history"), Some(3))
    );
    assert_eq!(
        a.body["entry"][0]["resource"]["meta"]["versionId"], "3",
        "newest first"
    );

    let a = app.get(&format!("/fhir/Composition/{id}"), &dr).await;
    assert_eq!(
        (
            a.body["status"].as_str(),
            a.body["attester"][0]["mode"].as_str()
        ),
        (Some("amended"), Some("legal"))
    );
    let div = a.body["section"][0]["text"]["div"].as_str().unwrap();
    assert!(div.contains("Corrected."), "{div}");
    let a = app
        .get(&format!("/fhir/Composition/{id}/_history/1"), &dr)
        .await;
    let div = a.body["section"][0]["text"]["div"].as_str().unwrap();
    assert!(
        div.contains("&lt;b&gt;not markup&lt;/b&gt; &amp; more."),
        "escaped: {div}"
    );

    // Search: by patient, type, date and status.
    let today = chrono::Utc::now().date_naive();
    for (q, n) in [
        (format!("patient=Patient/{p}"), 1),
        (
            format!("patient={p}&type=http://snomed.info/sct|371531000"),
            1,
        ),
        (format!("patient={p}&type=373942005"), 0),
        (format!("patient={p}&date=ge{today}"), 1),
        (format!("patient={p}&date=lt{today}"), 0),
        (format!("patient={p}&status=current"), 1),
        (format!("patient={p}&status=entered-in-error"), 0),
    ] {
        let a = app.get(&format!("/fhir/DocumentReference?{q}"), &dr).await;
        assert_eq!(
            (a.status, a.body["total"].as_i64()),
            (200, Some(n)),
            "{q}: {}",
            a.body
        );
    }
    let a = app.get("/fhir/DocumentReference?type=371531000", &dr).await;
    assert_eq!(
        (a.status, a.body["resourceType"].as_str()),
        (422, Some("OperationOutcome"))
    );
    let a = app
        .get(
            &format!("/fhir/DocumentReference/{}", uuid::Uuid::new_v4()),
            &dr,
        )
        .await;
    assert_eq!(
        (a.status, a.body["resourceType"].as_str()),
        (404, Some("OperationOutcome"))
    );
    // A letter is not a QuestionnaireResponse.
    assert_eq!(
        app.get(&format!("/fhir/QuestionnaireResponse/{id}"), &dr)
            .await
            .status,
        404
    );
    app.shutdown.trigger();
}

#[tokio::test]
async fn templates_and_assessments_read_as_questionnaires_responses_and_observations() {
    let app = TestApp::spawn(1).await;
    let nurse = app.clinician(0, "nurse-a");
    assert_eq!(
        app.post(
            "/templates/news2/versions",
            &nurse,
            crate::assessments::news2_template()
        )
        .await
        .status,
        201
    );
    let p = app.patient(0).await;
    let obs = json!({ "respiration_rate": 18, "spo2": 97, "spo2_scale": "1", "air_or_oxygen": "air",
        "systolic_bp": 125, "pulse": 80, "consciousness": "voice", "temperature": 37.2 });
    let a = app
        .post(
            "/assessments",
            &nurse,
            json!({ "patient_id": p, "template": "news2", "answers": { "observations": obs } }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    let mut v2 = crate::assessments::news2_template();
    v2["definition"]["title"] = json!("NEWS2 (revised)");
    assert_eq!(
        app.post("/templates/news2/versions", &nurse, v2)
            .await
            .status,
        201
    );

    let a = app.get("/fhir/Questionnaire/news2", &nurse).await;
    assert_eq!(
        (
            a.status,
            a.body["version"].as_str(),
            a.body["title"].as_str()
        ),
        (200, Some("2"), Some("NEWS2 (revised)"))
    );
    assert_eq!(a.body["item"][0]["item"].as_array().unwrap().len(), 8);
    let a = app.get("/fhir/Questionnaire/news2/_history", &nurse).await;
    assert_eq!(a.body["total"], 2);
    let a = app
        .get("/fhir/Questionnaire/news2/_history/1", &nurse)
        .await;
    assert_eq!(a.body["title"], "NEWS2 observations");

    let a = app
        .get(&format!("/fhir/QuestionnaireResponse/{id}"), &nurse)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body["questionnaire"]
            .as_str()
            .unwrap()
            .ends_with("/Questionnaire/news2|1"),
        "{}",
        a.body
    );
    assert_eq!(a.body["status"], "in-progress");
    let a = app.get(&format!("/fhir/Observation/{id}"), &nurse).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Voice scores 3 alone: aggregate 3, low–medium.
    assert_eq!(a.body["valueInteger"], 3);
    assert_eq!(a.body["code"]["coding"][0]["code"], "1104051000000101");
    assert!(a.body["interpretation"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("low-medium"));
    let a = app
        .get(&format!("/fhir/Observation/{id}/_history"), &nurse)
        .await;
    assert_eq!(a.body["total"], 1);
    app.shutdown.trigger();
}
