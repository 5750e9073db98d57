//! Activity for billing: coded by coders (format-checked), extracted for the month as CSV
//! or JSON, reconciled against the spells discharged.
use crate::helpers::*;
use chrono::Utc;
use serde_json::json;

#[tokio::test]
async fn finished_episodes_are_coded_extracted_and_reconciled() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let coder = app.coder(0);
    let (_, beds) = app.ward(0, "BILL", 2).await;
    let mut spells = Vec::new();
    for bed in &beds {
        let p = app.patient(0).await;
        let spell = app.admit(0, &p, bed).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, _) = app
            .post(
                &format!("/spells/{spell}/discharge"),
                &staff,
                discharge_body(),
            )
            .await;
        assert_eq!(s, 200);
        spells.push(spell);
    }
    let schema = app.schema(0);
    let ids = app
        .db
        .query_all(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT id::text AS id FROM {schema}.activity ORDER BY recorded_at"),
        ))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let ids: Vec<String> = ids.iter().map(|r| r.try_get("", "id").unwrap()).collect();
    assert_eq!(ids.len(), 2);

    // Coding: format-checked, every bad code named; ward staff may not code.
    let (s, e) = app
        .send(
            reqwest::Method::PUT,
            &format!("/activity/{}/coding", ids[0]),
            &coder,
            Some(json!({ "diagnoses": ["J18.9", "18.9"], "procedures": ["I10.1"] })),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");
    assert_eq!(e["errors"].as_array().unwrap().len(), 2, "{e}");
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            &format!("/activity/{}/coding", ids[0]),
            &staff,
            Some(json!({ "diagnoses": ["J18.9"] })),
        )
        .await;
    assert_eq!(s, 403);
    let (s, a) = app
        .send(
            reqwest::Method::PUT,
            &format!("/activity/{}/coding", ids[0]),
            &coder,
            Some(json!({ "diagnoses": ["j189", "I10"], "procedures": ["x401"] })),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["diagnoses"], json!(["J18.9", "I10"]));
    assert_eq!(a["procedures"], json!(["X40.1"]));

    // The month's extract: CSV with the CDS's undotted codes, and JSON.
    let month = Utc::now().format("%Y-%m").to_string();
    let r = app
        .client
        .get(format!(
            "{}/activity/extract?month={month}&format=csv",
            app.base
        ))
        .bearer_auth(&coder)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("activity_id,cds_type,patient_id,spell_number"),
        "{csv}"
    );
    assert!(csv.contains(",J189;I10,X401"), "{csv}");
    let (s, j) = app
        .get(&format!("/activity/extract?month={month}"), &coder)
        .await;
    assert_eq!(
        (s, j["rows"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{j}"
    );
    let (s, e) = app.get("/activity/extract?month=2026-13", &coder).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");

    // Reconciliation: nothing missing or doubled; the uncoded one listed once it is old
    // enough (0 days: at once).
    let (s, r) = app
        .get("/reports/reconciliation?uncoded_days=0", &coder)
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["finished_episodes"].as_i64(),
            r["activity_records"].as_i64()
        ),
        (Some(2), Some(2)),
        "{r}"
    );
    assert_eq!(r["missing"], json!([]));
    assert_eq!(r["doubled"], json!([]));
    assert_eq!(r["uncoded"], json!([ids[1]]));
    let (_, r) = app.get("/reports/reconciliation", &coder).await;
    assert_eq!(r["uncoded"], json!([]), "not yet five days old");

    // A record lost (as a defect would lose one) is reported missing.
    app.sql(&format!(
        "UPDATE {schema}.activity SET withdrawn_at = now() WHERE id = '{}'",
        ids[1]
    ))
    .await;
    let (_, r) = app.get("/reports/reconciliation", &coder).await;
    assert_eq!(r["missing"].as_array().map(Vec::len), Some(1), "{r}");
    // A withdrawn record is not coded.
    let (s, e) = app
        .send(
            reqwest::Method::PUT,
            &format!("/activity/{}/coding", ids[1]),
            &coder,
            Some(json!({ "diagnoses": ["J18.9"] })),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("activity.withdrawn")),
        "{e}"
    );
    app.stop().await;
}
