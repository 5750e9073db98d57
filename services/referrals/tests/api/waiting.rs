use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn the_waiting_list_its_standard_forecast_and_exports() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "wl-1", "GSURG");
    let manager = app.token(0, "wl-manager", &[INBOUND], &[]);
    // Waits (days): two breaches, one 2 days from breaching, three well within; two
    // specialties; one consultant named on acceptance.
    let waits = [
        (200, "100"),
        (127, "100"),
        (124, "100"),
        (126, "110"),
        (30, "110"),
        (3, "100"),
    ];
    let mut ids = Vec::new();
    for (ago, spec) in waits {
        let r = app
            .refer(0, &t, gp_referral(&patient(), "GSURG", spec, ago))
            .await;
        ids.push((
            r["id"].as_str().unwrap().to_string(),
            r["pathway_id"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(
        app.move_to(
            &t,
            &ids[1].0,
            json!({ "to": "ACCEPTED", "clinician": "mr-jones" })
        )
        .await
        .0,
        200
    );
    // One treated (off the list), one nullified by a first-appointment DNA (off both counts).
    let treated = json!({ "event": "treated", "date": days_ago(1).to_string() });
    assert_eq!(
        app.post(&format!("/pathways/{}/clock-events", ids[4].1), &t, treated)
            .await
            .0,
        201
    );
    let r = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 60))
        .await;
    let dna = json!({ "event": "dna", "date": days_ago(50).to_string(), "first_appointment": true, "communicated": true });
    assert_eq!(
        app.post(
            &format!(
                "/pathways/{}/clock-events",
                r["pathway_id"].as_str().unwrap()
            ),
            &t,
            dna
        )
        .await
        .0,
        201
    );

    let (s, v) = app.get("/waiting-list", &manager).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total"], 5);
    assert_eq!(v["breached"], 2);
    let days: Vec<i64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["days_waited"].as_i64().unwrap())
        .collect();
    assert_eq!(days, [200, 127, 126, 124, 3], "longest wait first");
    let e = &v["entries"][1];
    assert_eq!(e["breached"], true);
    assert_eq!(e["week_band"], 18);
    assert_eq!(e["consultant"], "mr-jones");
    assert_eq!(
        v["entries"][2]["breached"], false,
        "126 days is within 18 weeks"
    );
    // 3 of 5 within 18 weeks: 60%, the 92% standard not met.
    assert_eq!(v["standard"]["incomplete"], 5);
    assert_eq!(v["standard"]["within_18_weeks"], 3);
    assert_eq!(v["standard"]["percent_within"], 60.0);
    assert_eq!(v["standard"]["met"], false);

    // Per specialty and consultant; pages.
    let (_, v) = app.get("/waiting-list?specialty=110", &manager).await;
    assert_eq!(v["total"], 1);
    let (_, v) = app.get("/waiting-list?consultant=mr-jones", &manager).await;
    assert_eq!(v["total"], 1);
    let (_, v) = app.get("/waiting-list?limit=2&offset=2", &manager).await;
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    assert_eq!(v["entries"][0]["days_waited"], 126);
    // A census in the past: only what had started by then, waits counted to then.
    let (_, v) = app
        .get(&format!("/waiting-list?census={}", days_ago(100)), &manager)
        .await;
    assert_eq!(v["total"], 4, "{v}");
    assert_eq!(v["entries"][0]["days_waited"], 100);

    // The standard at a census, by specialty and consultant.
    let (s, v) = app
        .get(
            &format!("/waiting-list/standard?census={}", days_ago(0)),
            &manager,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["trust"]["incomplete"], 5);
    assert_eq!(v["by_specialty"]["110"]["incomplete"], 1);
    assert_eq!(v["by_specialty"]["110"]["met"], true);
    assert_eq!(v["by_specialty"]["100"]["within_18_weeks"], 2);
    assert_eq!(v["by_consultant"]["mr-jones"]["incomplete"], 1);
    assert_eq!(v["target_percent"], 92.0);
    let (s, v) = app.get("/waiting-list/standard", &manager).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["month_end"], true,
        "the default census is the latest month end"
    );

    // The forecast: who breaches in the next week if not treated (126 and 124 days now).
    let (s, v) = app.get("/waiting-list/forecast?weeks=1", &manager).await;
    assert_eq!(s, 200, "{v}");
    let due: Vec<i64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["days_waited"].as_i64().unwrap())
        .collect();
    assert_eq!(due, [126, 124], "soonest breach first");
    assert_eq!(v["entries"][0]["breach_date"], days_ago(-1).to_string());

    // CSV: the whole list, by parameter or by Accept.
    let r = app
        .req(reqwest::Method::GET, "/waiting-list", &manager)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    let headers = rd.headers().unwrap().clone();
    assert_eq!(&headers[0], "pathway_id");
    assert_eq!(&headers[9], "days_waited");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(&rows[0][9], "200");
    assert_eq!(&rows[0][12], "true");
    let r = app
        .req(
            reqwest::Method::GET,
            "/waiting-list/forecast?weeks=1&format=csv",
            &manager,
        )
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert_eq!(body.lines().count(), 3);

    // Bad parameters, and a role without the activity.
    for q in [
        "census=2999-01-01",
        "census=today",
        "specialty=1",
        "limit=0",
        "format=xml",
        "colour=red",
    ] {
        let (s, v) = app.get(&format!("/waiting-list?{q}"), &manager).await;
        assert_eq!(s, 422, "{q}: {v}");
    }
    let (s, _) = app.get("/waiting-list/forecast?weeks=60", &manager).await;
    assert_eq!(s, 422);
    let viewer = app.token(0, "viewer", &["B0820"], &[]);
    let (s, _) = app.get("/waiting-list", &viewer).await;
    assert_eq!(s, 403);
    // One audit record per request, counting the rows answered.
    let schema = app.schema(0);
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.audit_log WHERE action = 'waiting-list.read' AND outcome = 'permit' AND result_count = 5"))
        .await;
    assert!(n >= 2, "{n}");
    app.stop().await;
}
