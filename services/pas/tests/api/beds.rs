//! Wards and beds: set up once, refused when wrong, and the board's states.
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn wards_are_set_up_once_and_bad_ones_change_nothing() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (ward, beds) = app.ward(0, "W1", 3).await;
    assert_eq!(beds.len(), 3);
    let (s, e) = app
        .post(
            "/wards",
            &staff,
            json!({ "code": "w1", "name": "again", "site": "Main", "team": "T" }),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("ward.exists")), "{e}");
    let (s, e) = app
        .post("/wards", &staff, json!({ "code": "W 2", "name": "", "site": "Main", "team": "T",
                                         "beds": [{ "code": "A1" }, { "code": "A1" }, { "code": "" }] }))
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");
    let (s, e) = app
        .post(
            "/wards",
            &staff,
            json!({ "code": "W2", "name": "Two", "site": "Main", "team": "T",
                                         "beds": [{ "code": "A1" }, { "code": "a1" }] }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("validation")),
        "a bed listed twice: {e}"
    );
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {}.ward", app.schema(0)))
        .await;
    assert_eq!(n, 1, "nothing half-made");
    let (s, l) = app.get("/wards", &staff).await;
    assert_eq!((s, l["wards"][0]["beds"].as_i64()), (200, Some(3)), "{l}");
    let (s, _) = app
        .get(&format!("/wards/{}/board", uuid::Uuid::new_v4()), &staff)
        .await;
    assert_eq!(s, 404);
    let (s, e) = app
        .send(
            reqwest::Method::PUT,
            &format!("/beds/{}/state", beds[0]),
            &staff,
            Some(json!({ "state": "occupied" })),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("validation")), "{e}");
    let (s, b) = app
        .send(
            reqwest::Method::PUT,
            &format!("/beds/{}/state", beds[2]),
            &staff,
            Some(json!({ "state": "cleaning" })),
        )
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("cleaning")), "{b}");
    let (_, board) = app.get(&format!("/wards/{ward}/board"), &staff).await;
    let states: Vec<&str> = board["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["available", "available", "cleaning"]);
    app.stop().await;
}
