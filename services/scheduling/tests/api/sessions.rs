//! Clinics, templates and sessions: local time across the clock change, bank holidays,
//! idempotent generation, and what a bad template is told.
use crate::helpers::*;
use chrono::NaiveDate;
use serde_json::json;

#[tokio::test]
async fn sessions_are_in_local_time_across_the_clock_change_skip_bank_holidays_and_regenerate_nothing(
) {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "ORTHO-A").await;
    // Mondays 09:00–10:00 local, 30-minute slots, from March 2029 (BST begins 25 March).
    let template = app
        .template(
            0,
            &clinic,
            json!({
                "pattern": { "every": "week", "weekday": "mon" },
                "starts": "09:00", "ends": "10:00", "slot_minutes": 30, "capacity": 2,
                "slot_type": "new", "valid_from": "2029-03-01"
            }),
        )
        .await;
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            "/bank-holidays/2029-04-02",
            &clerk,
            Some(json!({ "name": "Easter Monday" })),
        )
        .await;
    assert_eq!(s, 204);
    let from = NaiveDate::from_ymd_opt(2029, 3, 5).unwrap();
    let g = app.generate(0, &template, from, 5).await;
    // Mondays 5, 12, 19, 26 March and 2 April; 2 April is a bank holiday.
    assert_eq!(g["sessions_created"], 4, "{g}");
    assert_eq!(g["slots_created"], 8, "{g}");
    assert_eq!(g["bank_holidays_skipped"], json!(["2029-04-02"]));
    let (s, found) = app
        .get(
            &format!("/slots?clinic={clinic}&from=2029-03-01&to=2029-04-30&limit=20"),
            &clerk,
        )
        .await;
    assert_eq!(s, 200, "{found}");
    let starts: Vec<&str> = found["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec![
            "2029-03-05T09:00:00+00:00",
            "2029-03-05T09:30:00+00:00",
            "2029-03-12T09:00:00+00:00",
            "2029-03-12T09:30:00+00:00",
            "2029-03-19T09:00:00+00:00",
            "2029-03-19T09:30:00+00:00",
            "2029-03-26T09:00:00+01:00",
            "2029-03-26T09:30:00+01:00",
        ],
        "09:00 on the clinic's clock in winter and in summer"
    );
    assert_eq!(found["slots"][0]["free"], 2);
    // Book one, generate again over a longer window: the booked slot is untouched, only the
    // new dates are added.
    let patient = app.patient(0).await;
    let slot = found["slots"][0]["id"].as_str().unwrap();
    let (s, a) = app
        .post(
            "/appointments",
            &clerk,
            json!({ "slot_id": slot, "patient_id": patient }),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let again = app.generate(0, &template, from, 6).await;
    assert_eq!(again["sessions_kept"], 4, "{again}");
    assert_eq!(again["sessions_created"], 1, "only 9 April is new: {again}");
    let (_, slot_now) = app.get(&format!("/slots/{slot}"), &clerk).await;
    assert_eq!(
        (slot_now["booked"].as_i64(), slot_now["free"].as_i64()),
        (Some(1), Some(1))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_template_or_clinic_is_told_every_field_at_once_and_nothing_is_written() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let (s, e) = app
        .post(
            "/clinics",
            &clerk,
            json!({ "code": "no spaces", "name": "", "specialty": "1", "treatment_function": "100",
                    "site": "Main", "services": ["walk-in"] }),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["code", "name", "specialty", "services"] {
        assert!(fields.contains(&f), "{f} in {e}");
    }
    let clinic = app.clinic(0, "DERM").await;
    let (s, dup) = app
        .post(
            "/clinics",
            &clerk,
            json!({ "code": "derm", "name": "Again", "specialty": "330", "treatment_function": "330",
                    "site": "Main", "services": ["new"] }),
        )
        .await;
    assert_eq!((s, dup["code"].as_str()), (409, Some("clinic.exists")));
    for (body, field) in [
        (
            json!({ "pattern": { "every": "fortnight", "weekday": "mon", "first": "2029-03-06" },
                 "starts": "09:00", "ends": "10:00", "slot_minutes": 15, "slot_type": "new",
                 "valid_from": "2029-03-01" }),
            "pattern.first",
        ),
        (
            json!({ "pattern": { "every": "week", "weekday": "mon" }, "starts": "10:00",
                 "ends": "09:00", "slot_minutes": 15, "slot_type": "new", "valid_from": "2029-03-01" }),
            "ends",
        ),
        (
            json!({ "pattern": { "every": "week", "weekday": "mon" }, "starts": "09:00",
                 "ends": "10:00", "slot_minutes": 15, "capacity": 0, "slot_type": "new",
                 "valid_from": "2029-03-01" }),
            "capacity",
        ),
        (
            json!({ "pattern": { "every": "week", "weekday": "mon" }, "starts": "9am",
                 "ends": "10:00", "slot_minutes": 15, "slot_type": "new", "valid_from": "2029-03-01" }),
            "starts",
        ),
    ] {
        let (s, e) = app
            .post(&format!("/clinics/{clinic}/templates"), &clerk, body)
            .await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(e["errors"][0]["field"], field, "{e}");
    }
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.session_template",
            app.schema(0)
        ))
        .await;
    assert_eq!(n, 0);
    app.stop().await;
}
