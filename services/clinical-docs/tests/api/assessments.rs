//! Templates and assessments: NEWS2 scored from its template's answers; an assessment keeps
//! the template version it used after the template moves on; a multi-disciplinary assessment
//! is signed section by section by different authors and is final when every required
//! section is.
use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn news2_template() -> Value {
    let q = |key: &str, unit: &str, min: f64, max: f64| json!({ "key": key, "label": key, "kind": "quantity", "unit": unit, "min": min, "max": max, "required": true });
    let c = |key: &str, options: &[&str]| json!({ "key": key, "label": key, "kind": "choice", "options": options, "required": true });
    json!({
        "type": { "code": "1363501000000100", "display": "NEWS2 chart" },
        "definition": {
            "title": "NEWS2 observations",
            "score": "news2",
            "sections": [{ "key": "observations", "title": "Observations", "required": true, "fields": [
                q("respiration_rate", "/min", 0.0, 80.0), q("spo2", "%", 0.0, 100.0),
                c("spo2_scale", &["1", "2"]), c("air_or_oxygen", &["air", "oxygen"]),
                q("systolic_bp", "mm[Hg]", 0.0, 300.0), q("pulse", "/min", 0.0, 300.0),
                c("consciousness", &["alert", "new-confusion", "voice", "pain", "unresponsive"]),
                q("temperature", "Cel", 25.0, 45.0),
            ] }]
        }
    })
}

#[tokio::test]
async fn a_news2_assessment_is_scored_and_keeps_its_template_version() {
    let app = TestApp::spawn(1).await;
    let nurse = app.clinician(0, "nurse-a");
    let a = app
        .post("/templates/news2/versions", &nurse, news2_template())
        .await;
    assert_eq!(
        (a.status, a.body["version"].as_i64()),
        (201, Some(1)),
        "{}",
        a.body
    );
    let p = app.patient(0).await;
    let obs = json!({ "respiration_rate": 23, "spo2": 95, "spo2_scale": "1", "air_or_oxygen": "oxygen",
        "systolic_bp": 105, "pulse": 115, "consciousness": "alert", "temperature": 38.5 });
    let a = app
        .post(
            "/assessments",
            &nurse,
            json!({ "patient_id": p, "template": "news2", "answers": { "observations": obs } }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    // 2 + 1 + 2 + 1 + 2 + 0 + 1 = 9: high.
    let score = &a.body["body"]["score"];
    assert_eq!(
        (score["aggregate"].as_i64(), score["risk"].as_str()),
        (Some(9), Some("high")),
        "{}",
        a.body
    );
    assert_eq!(a.body["body"]["template"]["version"], 1);
    let id = a.body["id"].as_str().unwrap().to_string();

    // A reading outside the template's range is refused, and changes nothing.
    let a = app
        .send(
            Method::PUT,
            &format!("/documents/{id}/sections/observations"),
            &nurse,
            Some(1),
            Some(json!({ "answers": { "pulse": 400 } })),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);

    // The template moves on; the assessment still names version 1, and a new one takes 2.
    let mut v2 = news2_template();
    v2["definition"]["title"] = json!("NEWS2 observations (2027)");
    let a = app.post("/templates/news2/versions", &nurse, v2).await;
    assert_eq!(a.body["version"], 2);
    let a = app.get(&format!("/documents/{id}"), &nurse).await;
    assert_eq!(a.body["body"]["template"]["version"], 1);
    let a = app.get("/templates/news2?version=1", &nurse).await;
    assert_eq!(a.body["definition"]["title"], "NEWS2 observations");

    // Signing the section finalises it (the only required section).
    let a = app
        .send(
            Method::POST,
            &format!("/documents/{id}/sections/observations/sign"),
            &nurse,
            Some(1),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["status"].as_str()),
        (200, Some("final")),
        "{}",
        a.body
    );
    // An assessment is not edited as a whole.
    let a = app
        .send(
            Method::PUT,
            &format!("/documents/{id}"),
            &nurse,
            Some(2),
            Some(json!({ "text": "x" })),
        )
        .await;
    assert_eq!(a.body["code"], "assessment.by-section");
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_multidisciplinary_assessment_is_final_when_every_required_section_is_signed() {
    let app = TestApp::spawn(1).await;
    let lead = app.clinician(0, "dr-lead");
    let template = json!({
        "type": { "code": "371532007", "display": "Progress report" },
        "definition": { "title": "Falls MDT assessment", "sections": [
            { "key": "medical", "title": "Medical", "required": true, "fields": [
                { "key": "diagnosis", "label": "Diagnosis", "kind": "coded", "required": true } ] },
            { "key": "physio", "title": "Physiotherapy", "required": true, "fields": [
                { "key": "mobility", "label": "Mobility", "kind": "choice", "options": ["independent", "aid", "hoist"], "required": true },
                { "key": "review", "label": "Review date", "kind": "date" } ] },
            { "key": "notes", "title": "Notes", "fields": [
                { "key": "note", "label": "Note", "kind": "text" } ] }
        ] }
    });
    assert_eq!(
        app.post("/templates/falls-mdt/versions", &lead, template)
            .await
            .status,
        201
    );
    let p = app.patient(0).await;
    let a = app
        .post(
            "/assessments",
            &lead,
            json!({ "patient_id": p, "template": "falls-mdt" }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    let section = |s: &str| format!("/documents/{id}/sections/{s}");

    // A required field missing: the section cannot be signed.
    let a = app
        .send(
            Method::POST,
            &format!("{}/sign", section("medical")),
            &lead,
            Some(1),
            None,
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    let a = app
        .send(Method::PUT, &section("medical"), &lead, Some(1),
            Some(json!({ "answers": { "diagnosis": { "code": "22298006", "display": "Myocardial infarction" } } })))
        .await;
    assert_eq!((a.status, a.version), (200, Some(2)), "{}", a.body);
    let a = app
        .send(
            Method::POST,
            &format!("{}/sign", section("medical")),
            &lead,
            Some(2),
            None,
        )
        .await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("draft")));

    // The physiotherapist answers and signs their section: now final.
    let physio = app.clinician(0, "physio-b");
    let a = app
        .send(
            Method::PUT,
            &section("physio"),
            &physio,
            Some(3),
            Some(json!({ "answers": { "mobility": "aid", "review": "2027-01-10" } })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The signed medical section is closed to more answers.
    let a = app
        .send(
            Method::PUT,
            &section("medical"),
            &physio,
            Some(4),
            Some(json!({ "answers": {} })),
        )
        .await;
    assert_eq!(a.body["code"], "assessment.section-signed");
    let a = app
        .send(
            Method::POST,
            &format!("{}/sign", section("physio")),
            &physio,
            Some(4),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["status"].as_str()),
        (200, Some("final")),
        "{}",
        a.body
    );
    let body = &a.body["body"]["sections"];
    assert_eq!(
        (
            body["medical"]["signed_by"].as_str(),
            body["physio"]["signed_by"].as_str()
        ),
        (Some("dr-lead"), Some("physio-b"))
    );
    app.shutdown.trigger();
}
