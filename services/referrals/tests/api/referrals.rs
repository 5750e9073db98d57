use crate::helpers::*;
use prost::Message as _;
use serde_json::json;
use std::time::Duration;
use tessera_proto::referrals::v1 as pb;
use tessera_testkit as kit;

#[tokio::test]
async fn an_ers_referral_is_received_triaged_by_its_team_and_accepted() {
    let app = TestApp::spawn(1).await;
    let team = "GSURG";
    let triage = app.team_member(0, "triage-1", team);
    let stranger = app.token(0, "dr-other", &[INBOUND], &["CARDIO"]);
    let p = app.known_patient(0).await;
    let u = ubrn();

    let r = app.refer(0, &triage, ers_referral(&p, team, &u, 10)).await;
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["state"], "AWAITING_TRIAGE");
    assert_eq!(r["ubrn"], u.as_str());
    // A UBRN-based PPID: the UBRN padded to 20, issued by X09.
    assert_eq!(r["ppid"], format!("{u:0>20}"));
    assert_eq!(r["ppid_issuer"], "X09");

    // The same UBRN again is the same referral: refused, naming the first.
    let (s, v) = app
        .post("/referrals", &triage, ers_referral(&p, team, &u, 10))
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "referral.duplicate-ubrn");
    assert!(v["detail"].as_str().unwrap().contains(&id));

    // The clock started when the UBRN was converted.
    let pathway = r["pathway_id"].as_str().unwrap();
    let (s, pw) = app.get(&format!("/pathways/{pathway}"), &triage).await;
    assert_eq!(s, 200, "{pw}");
    assert_eq!(pw["clock"], "running");
    assert_eq!(pw["periods"][0]["start_date"], days_ago(10).to_string());
    assert_eq!(pw["periods"][0]["days_waited"], 10);

    // The receiving team reads it to triage it; nobody else without a relationship may.
    let (s, v) = app.get(&format!("/referrals/{id}"), &triage).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["allowed_transitions"],
        json!(["ACCEPTED", "REJECTED", "TRIAGE_RESPONSE", "CANCELLED"])
    );
    let (s, v) = app.get(&format!("/referrals/{id}"), &stranger).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["code"], "access.relationship");
    // Without the activity, not even the team.
    let no_activity = app.token(0, "triage-2", &["B0820"], &[team]);
    let (s, _) = app.get(&format!("/referrals/{id}"), &no_activity).await;
    assert_eq!(s, 403);

    // Accepted, with the consultant triage chose.
    let (s, v) = app
        .move_to(
            &triage,
            &id,
            json!({ "to": "ACCEPTED", "clinician": "dr-smith", "expected_version": 1 }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "ACCEPTED");
    assert_eq!(v["receiving_clinician"], "dr-smith");
    assert_eq!(v["version"], 2);

    // Illegal transitions are refused with both states named, and change nothing.
    for to in ["AWAITING_TRIAGE", "ACCEPTED", "TRIAGE_RESPONSE"] {
        let (s, v) = app
            .move_to(&triage, &id, json!({ "to": to, "reason": "x" }))
            .await;
        assert_eq!(s, 409, "{to}: {v}");
        assert_eq!(v["code"], "referral.illegal-transition");
        assert!(v["detail"].as_str().unwrap().contains("ACCEPTED"));
    }
    // A stale version is refused.
    let (s, v) = app
        .move_to(
            &triage,
            &id,
            json!({ "to": "BOOKED", "expected_version": 1 }),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("referral.version")));
    let (_, v) = app.get(&format!("/referrals/{id}"), &triage).await;
    assert_eq!(v["state"], "ACCEPTED");
    assert_eq!(v["history"].as_array().unwrap().len(), 2);
    assert_eq!(v["history"][1]["from_state"], "AWAITING_TRIAGE");
    assert_eq!(v["history"][1]["actor"], "triage-1");

    // Every transition went out, in order, keyed by the patient; acceptance for access too.
    let msgs = kit::read_topic(
        &app.kafka,
        &app.topic(0, "referrals", "referral"),
        4,
        Duration::from_secs(30),
    )
    .await;
    let types: Vec<&str> = msgs.iter().map(|m| m.headers["ce_type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "uk.nhs.tessera.referrals.ReferralReceived.v1",
            "uk.nhs.tessera.referrals.ReferralStateChanged.v1",
            "uk.nhs.tessera.referrals.ReferralStateChanged.v1",
            "uk.nhs.tessera.referrals.ReferralAccepted.v1",
        ]
    );
    assert!(msgs.iter().all(|m| m.key.as_deref() == Some(p.as_str())));
    let acc = pb::ReferralAccepted::decode(msgs[3].payload.as_slice()).unwrap();
    assert_eq!(
        (
            acc.referral_id.as_str(),
            acc.team.as_str(),
            acc.clinician_user_id.as_str()
        ),
        (id.as_str(), team, "dr-smith")
    );
    let ch = pb::ReferralStateChanged::decode(msgs[2].payload.as_slice()).unwrap();
    assert_eq!(
        (ch.from_state.as_str(), ch.to_state.as_str()),
        ("AWAITING_TRIAGE", "ACCEPTED")
    );

    // Every request above left an audit record; the refusals as denials.
    let schema = app.schema(0);
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.audit_log WHERE action = 'referral.transition' AND outcome = 'deny'"))
        .await;
    assert_eq!(n, 4);
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.audit_log WHERE action = 'referral.read' AND outcome = 'deny' AND patient_id = '{p}'"))
        .await;
    assert_eq!(n, 1, "the stranger's refused read names the patient");
    app.stop().await;
}

#[tokio::test]
async fn closing_a_referral_needs_its_clock_stopped_and_rejection_returns_the_patient() {
    let app = TestApp::spawn(1).await;
    let team = "ENT";
    let t = app.team_member(0, "ent-1", team);
    let p = app.known_patient(0).await;
    let r = app.refer(0, &t, gp_referral(&p, team, "120", 30)).await;
    let id = r["id"].as_str().unwrap();
    let pathway = r["pathway_id"].as_str().unwrap();
    assert_eq!(
        app.move_to(&t, id, json!({ "to": "ACCEPTED" })).await.0,
        200
    );
    assert_eq!(app.move_to(&t, id, json!({ "to": "BOOKED" })).await.0, 200);

    // Completing it while the clock runs would lose the patient from the list: refused.
    let (s, v) = app.move_to(&t, id, json!({ "to": "COMPLETED" })).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "referral.clock-running");
    // A clock event that does not stop the clock does not help, and is rolled back.
    let (s, _) = app
        .move_to(&t, id, json!({ "to": "COMPLETED", "clock_event": { "event": "attended", "date": days_ago(1).to_string() } }))
        .await;
    assert_eq!(s, 409);
    let (_, pw) = app.get(&format!("/pathways/{pathway}"), &t).await;
    assert_eq!(pw["events"].as_array().unwrap().len(), 1, "{pw}");

    // With the treatment that stops it: completed, the period stopped 30 on that day.
    let (s, v) = app
        .move_to(&t, id, json!({ "to": "COMPLETED", "clock_event": { "event": "treated", "date": days_ago(2).to_string() } }))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, pw) = app.get(&format!("/pathways/{pathway}"), &t).await;
    assert_eq!(pw["clock"], "stopped");
    assert_eq!(pw["periods"][0]["state"], "stopped");
    assert_eq!(pw["periods"][0]["stop_code"], 30);
    assert_eq!(pw["periods"][0]["end_date"], days_ago(2).to_string());
    assert_eq!(pw["periods"][0]["days_waited"], 28);

    // A rejection needs a reason (the referrer is told) and returns the patient: 34 today.
    let r2 = app
        .refer(0, &t, gp_referral(&patient(), team, "120", 5))
        .await;
    let id2 = r2["id"].as_str().unwrap();
    let (s, v) = app.move_to(&t, id2, json!({ "to": "REJECTED" })).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["errors"][0]["field"], "reason");
    let (s, v) = app
        .move_to(
            &t,
            id2,
            json!({ "to": "REJECTED", "reason": "Refer to community ENT" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state_reason"], "Refer to community ENT");
    let (_, pw) = app
        .get(
            &format!("/pathways/{}", r2["pathway_id"].as_str().unwrap()),
            &t,
        )
        .await;
    assert_eq!(pw["periods"][0]["stop_code"], 34);
    // Closed: nothing further.
    let (s, _) = app.move_to(&t, id2, json!({ "to": "ACCEPTED" })).await;
    assert_eq!(s, 409);

    // Both closures went out for the access service.
    let msgs = kit::read_topic(
        &app.kafka,
        &app.topic(0, "referrals", "referral"),
        11,
        Duration::from_secs(30),
    )
    .await;
    let closed: Vec<pb::ReferralClosed> = msgs
        .iter()
        .filter(|m| m.headers["ce_type"] == "uk.nhs.tessera.referrals.ReferralClosed.v1")
        .map(|m| pb::ReferralClosed::decode(m.payload.as_slice()).unwrap())
        .collect();
    let reasons: Vec<&str> = closed.iter().map(|c| c.reason.as_str()).collect();
    assert_eq!(reasons, ["completed", "rejected"]);
    app.stop().await;
}

#[tokio::test]
async fn bad_referrals_are_refused_whole_and_change_nothing() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let p = app.known_patient(0).await;
    let mut bad = gp_referral(&p, "GSURG", "10", 1);
    bad["priority"] = json!("soon");
    bad["received_on"] = json!("2999-01-01");
    bad["ubrn"] = json!("123456789012");
    bad["attachments"][0]["url"] = json!("file:///etc/passwd");
    let (s, v) = app.post("/referrals", &t, bad).await;
    assert_eq!(s, 422, "{v}");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "priority",
        "received_on",
        "ubrn",
        "specialty",
        "attachments[0].url",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // An e-RS referral needs its UBRN; a UBRN is 12 digits.
    let mut e = ers_referral(&p, "GSURG", "12345", 3);
    let (s, v) = app.post("/referrals", &t, e.clone()).await;
    assert_eq!((s, v["errors"][0]["field"].as_str()), (422, Some("ubrn")));
    e.as_object_mut().unwrap().remove("ubrn");
    let (s, _) = app.post("/referrals", &t, e).await;
    assert_eq!(s, 422);
    // Unknown fields and broken JSON.
    let mut extra = gp_referral(&p, "GSURG", "100", 1);
    extra["nhs_number"] = json!("9434765919");
    let (s, _) = app.post("/referrals", &t, extra).await;
    assert_eq!(s, 400);
    let r = app
        .req(reqwest::Method::POST, "/referrals", &t)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Referring within a pathway nobody holds.
    let mut within = gp_referral(&p, "GSURG", "100", 1);
    within["pathway"] = json!({ "ppid": "NOSUCHPATHWAY", "issuer": app.tenant(0) });
    let (s, v) = app.post("/referrals", &t, within).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("pathway.unknown")));
    // Bad transitions and clock events.
    let r = app.refer(0, &t, gp_referral(&p, "GSURG", "100", 1)).await;
    let id = r["id"].as_str().unwrap();
    let (s, _) = app.move_to(&t, id, json!({ "to": "LOST" })).await;
    assert_eq!(s, 422);
    let (s, _) = app
        .move_to(&t, "not-a-uuid", json!({ "to": "ACCEPTED" }))
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .move_to(&t, &patient(), json!({ "to": "ACCEPTED" }))
        .await;
    assert_eq!(s, 404);
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.referral"))
            .await,
        1
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.pathway"))
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_acceptances_one_wins() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let r = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 3))
        .await;
    let id = r["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (base, t, id) = (app.base.clone(), t.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/referrals/{id}/transitions"))
                .bearer_auth(t)
                .json(&json!({ "to": "ACCEPTED" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [200, 409, 409, 409, 409, 409]);
    let schema = app.schema(0);
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.referral_transition WHERE to_state = 'ACCEPTED'"
        ))
        .await;
    assert_eq!(n, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_triage_worklist_and_another_trust() {
    let app = TestApp::spawn(2).await;
    let t = app.team_member(0, "u1", "GSURG");
    let p = app.known_patient(0).await;
    let mine = app.refer(0, &t, gp_referral(&p, "GSURG", "100", 3)).await;
    let other_team = app.team_member(0, "u2", "CARDIO");
    app.refer(0, &other_team, gp_referral(&p, "CARDIO", "320", 3))
        .await;

    let (s, v) = app
        .get("/referrals?team=GSURG&state=AWAITING_TRIAGE", &t)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total"], 1);
    assert_eq!(v["referrals"][0]["id"], mine["id"]);
    // By patient: only what this caller may see (its own team's referral).
    let (_, v) = app.get(&format!("/referrals?patient_id={p}"), &t).await;
    assert_eq!(v["total"], 1);
    let (s, _) = app.get("/referrals", &t).await;
    assert_eq!(s, 422);

    // Another trust's staff: nothing, whatever they ask.
    let rbt = app.team_member(1, "u1", "GSURG");
    let (s, _) = app
        .get(
            &format!("/referrals/{}", mine["id"].as_str().unwrap()),
            &rbt,
        )
        .await;
    assert_eq!(s, 404);
    let (_, v) = app.get(&format!("/referrals?patient_id={p}"), &rbt).await;
    assert_eq!(v["total"], 0);
    let (_, v) = app.get("/waiting-list", &rbt).await;
    assert_eq!(v["total"], 0);
    let (s, _) = app
        .get(
            &format!("/pathways/{}", mine["pathway_id"].as_str().unwrap()),
            &rbt,
        )
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}
