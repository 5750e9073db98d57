//! Cancellations (A11, A12, A13): each puts the record back exactly as it was, keeps the
//! history, and withdraws — never deletes — the activity it undid.
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn cancelling_a_discharge_then_a_transfer_then_the_admission_restores_each_state() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (ward, beds) = app.ward(0, "UNDO", 3).await;
    let p = app.patient(0).await;
    let v = app.admit(0, &p, &beds[0]).await;
    let spell = v["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds[1] }),
        )
        .await;
    assert_eq!(s, 200);
    let before_discharge = app.get(&format!("/spells/{spell}"), &staff).await.1;
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200);
    let schema = app.schema(0);
    let records = |live: bool| {
        format!(
            "SELECT count(*) AS n FROM {schema}.activity WHERE spell_id = '{spell}' AND withdrawn_at IS {} NULL",
            if live { "" } else { "NOT" }
        )
    };
    assert_eq!(app.scalar(&records(true)).await, 1);

    // Cancelling a transfer when the last action is the discharge is refused.
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "transfer", "reason": "wrong" }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.nothing-to-cancel")),
        "{e}"
    );

    // A13: back in bed 2, the episode open again, its record withdrawn (kept).
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "discharge", "reason": "discharged in error" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for k in [
        "status",
        "ward_id",
        "discharged_at",
        "discharge_method",
        "episodes",
        "stays",
    ] {
        assert_eq!(v[k], before_discharge[k], "{k}");
    }
    assert_eq!(app.scalar(&records(true)).await, 0);
    assert_eq!(app.scalar(&records(false)).await, 1);
    let (_, board) = app.get(&format!("/wards/{ward}/board"), &staff).await;
    assert_eq!(board["beds"][1]["state"], "occupied");

    // A12: back in bed 1, bed 2 free.
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "transfer", "reason": "wrong bed" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let stays = v["stays"].as_array().unwrap();
    assert_eq!(stays.len(), 1);
    assert_eq!(stays[0]["bed_id"], beds[0].as_str());
    assert!(stays[0]["to_at"].is_null());
    let (_, board) = app.get(&format!("/wards/{ward}/board"), &staff).await;
    let states: Vec<&str> = board["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["occupied", "available", "available"]);

    // Another patient takes bed 2; the first moves there again? No: bed 2 is taken, so a
    // transfer to it is refused; moved to bed 3 instead, then bed 1 is given away, and
    // cancelling that transfer cannot put the patient back.
    let q = app.patient(0).await;
    app.admit(0, &q, &beds[1]).await;
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds[1] }),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("bed.occupied")), "{e}");
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds[2] }),
        )
        .await;
    assert_eq!(s, 200);
    let r = app.patient(0).await;
    app.admit(0, &r, &beds[0]).await;
    let (s, e) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "reason": "wrong bed" }),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("bed.occupied")), "{e}");

    // A11 after the transfer is set aside by discharging r and cancelling it.
    let (s, v) = app
        .get(&format!("/spells?patient={r}&status=admitted"), &staff)
        .await;
    let r_spell = v["spells"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(s, 200);
    let (s, v) = app
        .post(
            &format!("/spells/{r_spell}/cancel"),
            &staff,
            json!({ "cancels": "admission", "reason": "wrong patient" }),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("cancelled")), "{v}");
    assert!(v["stays"].as_array().unwrap().is_empty());
    assert_eq!(v["history"][0]["cancel_reason"], "wrong patient");
    let (s, e) = app
        .post(
            &format!("/spells/{r_spell}/cancel"),
            &staff,
            json!({ "reason": "again" }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.nothing-to-cancel")),
        "{e}"
    );
    // Now the transfer can be cancelled: bed 1 is free again.
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "transfer", "reason": "wrong bed" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["stays"].as_array().unwrap().last().unwrap()["bed_id"],
        beds[0].as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelling_a_consultant_change_reopens_the_episode_and_withdraws_its_record() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds) = app.ward(0, "CONS", 1).await;
    let p = app.patient(0).await;
    let spell = app.admit(0, &p, &beds[0]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/consultant"),
            &staff,
            json!({ "consultant": "C2", "treatment_function": "101" }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "consultant", "reason": "wrong consultant" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let eps = v["episodes"].as_array().unwrap();
    assert_eq!(eps.len(), 1);
    assert!(eps[0]["ended_at"].is_null());
    assert_eq!(eps[0]["consultant"], "C100");
    let schema = app.schema(0);
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.activity WHERE withdrawn_at IS NOT NULL AND spell_id = '{spell}'"))
        .await;
    assert_eq!(n, 1);
    // The next discharge records the reopened episode anew: one live record.
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200);
    let live = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.activity WHERE withdrawn_at IS NULL AND spell_id = '{spell}'"))
        .await;
    assert_eq!(live, 1);
    app.stop().await;
}

#[tokio::test]
async fn leave_of_absence_keeps_the_spell_and_the_bed_and_is_undone_like_any_action() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (ward, beds) = app.ward(0, "LEAVE", 1).await;
    let p = app.patient(0).await;
    let spell = app.admit(0, &p, &beds[0]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let leave = |action: &'static str| {
        let (app, staff, spell) = (&app, staff.clone(), spell.clone());
        async move {
            app.post(
                &format!("/spells/{spell}/leave"),
                &staff,
                json!({ "action": action }),
            )
            .await
        }
    };
    let (s, e) = leave("end").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.leave-state")),
        "{e}"
    );
    let (s, v) = leave("start").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("admitted")), "{v}");
    assert!(v["on_leave_since"].is_string());
    let (_, board) = app.get(&format!("/wards/{ward}/board"), &staff).await;
    assert_eq!(board["beds"][0]["state"], "occupied", "the bed is kept");
    let (s, e) = leave("start").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("spell.leave-state")),
        "{e}"
    );
    let (s, e) = leave("soon").await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");
    let (s, v) = leave("end").await;
    assert_eq!((s, v["on_leave_since"].is_null()), (200, true), "{v}");
    // Undone: away again; then discharged from leave, and that undone too.
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "leave-end", "reason": "not back yet" }),
        )
        .await;
    assert_eq!((s, v["on_leave_since"].is_string()), (200, true), "{v}");
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!((s, v["on_leave_since"].is_null()), (200, true), "{v}");
    let (s, v) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "discharge", "reason": "came back" }),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str(), v["on_leave_since"].is_string()),
        (200, Some("admitted"), true),
        "{v}"
    );
    app.stop().await;
}
