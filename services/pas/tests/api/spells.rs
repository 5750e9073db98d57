//! A spell's life through the API: admitted into a bed, moved, a new consultant, discharged;
//! the board, the episodes and the activity each step leaves.
use crate::helpers::*;
use chrono::{Duration, Utc};
use serde_json::json;

#[tokio::test]
async fn a_spell_moves_through_beds_and_consultants_and_each_finished_episode_is_recorded_once() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (ward_a, beds_a) = app.ward(0, "WARDA", 3).await;
    let (ward_b, beds_b) = app.ward(0, "WARDB", 2).await;
    let p = app.patient(0).await;
    let t0 = Utc::now() - Duration::hours(5);
    let (s, v) = app
        .post(
            "/admissions",
            &staff,
            json!({ "patient_id": p, "bed_id": beds_a[0], "admission_method": "11", "admission_source": "19",
                    "consultant": "C100", "treatment_function": "100", "admitted_at": t0.to_rfc3339(),
                    "commissioner": "15f" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let spell = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "admitted");
    assert_eq!(v["episodes"].as_array().unwrap().len(), 1);
    assert_eq!(v["stays"][0]["bed_code"], "B001");
    assert_eq!(v["commissioner"], "15F");

    let (_, board) = app.get(&format!("/wards/{ward_a}/board"), &staff).await;
    assert_eq!(board["beds"][0]["state"], "occupied");
    assert_eq!(board["beds"][0]["patient_id"], p.as_str());
    assert_eq!(board["beds"][1]["state"], "available");

    // Moved to ward B: bed A1 is free in the same transaction.
    let t1 = t0 + Duration::hours(1);
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds_b[1], "at": t1.to_rfc3339() }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ward_id"], ward_b.as_str());
    assert_eq!(v["stays"].as_array().unwrap().len(), 2);
    let (_, board) = app.get(&format!("/wards/{ward_a}/board"), &staff).await;
    assert_eq!(board["beds"][0]["state"], "available");
    let (_, board) = app.get(&format!("/wards/{ward_b}/board"), &staff).await;
    assert_eq!(board["beds"][1]["state"], "occupied");

    // A new consultant: episode 1 ends where episode 2 begins, and is recorded.
    let t2 = t1 + Duration::hours(1);
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/consultant"),
            &staff,
            json!({ "consultant": "C200", "treatment_function": "101", "at": t2.to_rfc3339() }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let eps = v["episodes"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0]["ended_at"], eps[1]["started_at"]);
    let schema = app.schema(0);
    let live = |n| {
        format!("SELECT count(*) AS n FROM {schema}.activity WHERE spell_id = '{spell}' AND withdrawn_at IS NULL AND {n}")
    };
    assert_eq!(app.scalar(&live("true")).await, 1);

    // Out of order: before the last action.
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            json!({ "discharge_method": "1", "discharge_destination": "19", "at": t1.to_rfc3339() }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.out-of-order")),
        "{e}"
    );

    let (s, v) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "discharged");
    assert_eq!(v["discharge_method"], "1");
    // The bed goes to cleaning; the second episode is recorded with the discharge.
    let (_, board) = app.get(&format!("/wards/{ward_b}/board"), &staff).await;
    assert_eq!(board["beds"][1]["state"], "cleaning");
    assert_eq!(app.scalar(&live("true")).await, 2);
    assert_eq!(
        app.scalar(&live(
            "discharge_method = '1' AND treatment_function = '101'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&live("spell_number IS NOT NULL AND commissioner = '15F'"))
            .await,
        2
    );

    // Nothing more happens to a discharged spell.
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds_a[2] }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.not-admitted")),
        "{e}"
    );
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.not-admitted")),
        "{e}"
    );

    // The spell reads back with its whole history.
    let (s, v) = app.get(&format!("/spells/{spell}"), &staff).await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["admission", "transfer", "consultant", "discharge"]);
    let (s, l) = app.get(&format!("/spells?patient={p}"), &staff).await;
    assert_eq!((s, l["spells"].as_array().unwrap().len()), (200, 1), "{l}");
    app.stop().await;
}

#[tokio::test]
async fn admissions_refuse_what_is_wrong_and_change_nothing() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds) = app.ward(0, "REFUSE", 2).await;
    let p = app.patient(0).await;
    let schema = app.schema(0);
    let spells = format!("SELECT count(*) AS n FROM {schema}.spell");

    // Every bad field named at once.
    let (s, e) = app
        .post(
            "/admissions",
            &staff,
            json!({ "patient_id": "nobody", "bed_id": beds[0], "admission_method": "14", "admission_source": "20",
                    "consultant": "", "treatment_function": "30", "ppid": "ABC", "ppid_issuer": "RXR" }),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "patient_id",
        "admission_method",
        "admission_source",
        "consultant",
        "treatment_function",
        "admission_purpose",
    ] {
        assert!(fields.contains(&f), "{f} not named: {e}");
    }
    // A patient the trust does not have.
    let stranger = uuid::Uuid::new_v4().to_string();
    let (s, e) = app
        .post("/admissions", &staff, admission(&stranger, &beds[0]))
        .await;
    assert_eq!(
        (s, e["errors"][0]["code"].as_str()),
        (422, Some("patient.unknown")),
        "{e}"
    );
    // In the future.
    let mut late = admission(&p, &beds[0]);
    late["admitted_at"] = json!((Utc::now() + Duration::hours(2)).to_rfc3339());
    let (s, e) = app.post("/admissions", &staff, late).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.out-of-order")),
        "{e}"
    );
    assert_eq!(app.scalar(&spells).await, 0);

    // Admitted once; a second admission of the same patient, and another patient into the
    // same bed, are refused.
    app.admit(0, &p, &beds[0]).await;
    let (s, e) = app
        .post("/admissions", &staff, admission(&p, &beds[1]))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.already-admitted")),
        "{e}"
    );
    let q = app.patient(0).await;
    let (s, e) = app
        .post("/admissions", &staff, admission(&q, &beds[0]))
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("bed.occupied")), "{e}");
    // A closed bed takes nobody; an occupied one cannot be closed.
    let (s, b) = app
        .send(
            reqwest::Method::PUT,
            &format!("/beds/{}/state", beds[1]),
            &staff,
            Some(json!({ "state": "closed" })),
        )
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("closed")), "{b}");
    let (s, e) = app
        .post("/admissions", &staff, admission(&q, &beds[1]))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("bed.unavailable")),
        "{e}"
    );
    let (s, e) = app
        .send(
            reqwest::Method::PUT,
            &format!("/beds/{}/state", beds[0]),
            &staff,
            Some(json!({ "state": "closed" })),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("bed.occupied")), "{e}");
    assert_eq!(app.scalar(&spells).await, 1);
    // Coders cannot admit; ward staff cannot code.
    let (s, _) = app
        .post("/admissions", &app.coder(0), admission(&q, &beds[1]))
        .await;
    assert_eq!(s, 403);
    app.stop().await;
}

#[tokio::test]
async fn an_admission_retried_under_its_idempotency_key_is_answered_once() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds) = app.ward(0, "IDEM", 2).await;
    let p = app.patient(0).await;
    let send = |body: serde_json::Value, key: &'static str| {
        let (app, staff) = (&app, staff.clone());
        async move {
            let r = app
                .client
                .post(format!("{}/admissions", app.base))
                .bearer_auth(&staff)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, replayed, v)
        }
    };
    let (s1, r1, a) = send(admission(&p, &beds[0]), "adm-1").await;
    let (s2, r2, b) = send(admission(&p, &beds[0]), "adm-1").await;
    assert_eq!((s1, r1, s2, r2), (201, false, 201, true));
    assert_eq!(a["id"], b["id"]);
    let q = app.patient(0).await;
    let (s3, _, e) = send(admission(&q, &beds[1]), "adm-1").await;
    assert_eq!(
        (s3, e["code"].as_str()),
        (422, Some("idempotency.mismatch")),
        "{e}"
    );
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.spell",
            app.schema(0)
        ))
        .await;
    assert_eq!(n, 1);
    app.stop().await;
}
