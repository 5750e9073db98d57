use crate::helpers::*;
use prost::Message as _;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_proto::{access::v1 as access, referrals::v1 as pb};
use tessera_testkit as kit;

async fn clock(app: &TestApp, t: &str, pathway: &str, body: Value) -> Value {
    let (s, v) = app
        .post(&format!("/pathways/{pathway}/clock-events"), t, body)
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

fn ev(event: &str, ago: i64) -> Value {
    json!({ "event": event, "date": days_ago(ago).to_string() })
}

fn periods(v: &Value) -> Vec<(String, Option<String>, String)> {
    v["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["start_date"].as_str().unwrap().to_string(),
                p["end_date"].as_str().map(str::to_string),
                p["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn d(ago: i64) -> String {
    days_ago(ago).to_string()
}

#[tokio::test]
async fn clock_events_through_the_api_become_periods() {
    let app = TestApp::spawn(1).await;
    let team = "ORTHO";
    let t = app.team_member(0, "ortho-1", team);
    let refer = |ago: i64| gp_referral(&patient(), team, "110", ago);

    // A first-appointment DNA, clearly communicated, nullifies; the rebooking starts anew.
    let r = app.refer(0, &t, refer(100)).await;
    let p = r["pathway_id"].as_str().unwrap();
    let mut dna = ev("dna", 80);
    dna["first_appointment"] = json!(true);
    dna["communicated"] = json!(true);
    clock(&app, &t, p, dna).await;
    let v = clock(&app, &t, p, ev("rebooked", 70)).await;
    assert_eq!(
        periods(&v),
        [
            (d(100), Some(d(80)), "nullified".into()),
            (d(70), None, "open".into())
        ]
    );
    assert_eq!(v["periods"][0]["stop_code"], 33);
    assert_eq!(v["periods"][1]["days_waited"], 70);

    // Active monitoring stops the clock; the decision to treat after it starts a new one (11).
    let r = app.refer(0, &t, refer(200)).await;
    let p = r["pathway_id"].as_str().unwrap();
    clock(&app, &t, p, ev("attended", 190)).await;
    let mut am = ev("active-monitoring", 150);
    am["by_patient"] = json!(false);
    clock(&app, &t, p, am).await;
    let v = clock(&app, &t, p, ev("ended-active-monitoring", 40)).await;
    assert_eq!(
        periods(&v),
        [
            (d(200), Some(d(150)), "stopped".into()),
            (d(40), None, "open".into())
        ]
    );
    assert_eq!(v["periods"][0]["stop_code"], 32);
    assert_eq!(v["periods"][1]["start_code"], 11);

    // A diagnostic-only admission and a patient cancellation leave the clock running; the
    // admission for treatment stops it on the admission date; a backdated event re-derives.
    let r = app.refer(0, &t, refer(130)).await;
    let p = r["pathway_id"].as_str().unwrap();
    clock(&app, &t, p, ev("admitted-no-treatment", 60)).await;
    let mut cancel = ev("cancelled", 50);
    cancel["by_patient"] = json!(true);
    let v = clock(&app, &t, p, cancel).await;
    assert_eq!(v["clock"], "running");
    assert_eq!(v["periods"][0]["days_waited"], 130);
    assert_eq!(v["periods"][0]["breached"], true);
    let v = clock(&app, &t, p, ev("admitted-for-treatment", 10)).await;
    assert_eq!(periods(&v), [(d(130), Some(d(10)), "stopped".into())]);
    assert_eq!(v["periods"][0]["days_waited"], 120);
    assert_eq!(v["periods"][0]["week_band"], 17);
    assert_eq!(v["periods"][0]["breached"], false);

    // A transfer in keeps the original start and the PPID.
    let mut tin = refer(3);
    tin["pathway"] = json!({ "ppid": "RTX0000123", "issuer": "RTX", "kind": "transfer-in", "original_start": d(60) });
    let r = app.refer(0, &t, tin).await;
    assert_eq!(
        (r["ppid"].as_str(), r["ppid_issuer"].as_str()),
        (Some("RTX0000123"), Some("RTX"))
    );
    let (_, v) = app
        .get(
            &format!("/pathways/{}", r["pathway_id"].as_str().unwrap()),
            &t,
        )
        .await;
    assert_eq!(periods(&v), [(d(60), None, "open".into())]);

    // A referral within a running pathway continues it; after its clock stopped, a
    // re-referral starts a new clock (rule 3).
    let mut within = refer(5);
    within["pathway"] = json!({ "ppid": "RTX0000123", "issuer": "RTX" });
    within["patient_id"] = r["patient_id"].clone();
    let r2 = app.refer(0, &t, within.clone()).await;
    assert_eq!(r2["pathway_id"], r["pathway_id"]);
    let pid = r["pathway_id"].as_str().unwrap();
    clock(&app, &t, pid, ev("treated", 2)).await;
    within["received_on"] = json!(d(1));
    app.refer(0, &t, within).await;
    let (_, v) = app.get(&format!("/pathways/{pid}"), &t).await;
    assert_eq!(
        periods(&v),
        [
            (d(60), Some(d(2)), "stopped".into()),
            (d(1), None, "open".into())
        ]
    );
    // Another patient cannot be referred within it.
    let mut theirs = refer(1);
    theirs["pathway"] = json!({ "ppid": "RTX0000123", "issuer": "RTX" });
    app.know(0, theirs["patient_id"].as_str().unwrap()).await;
    let (s, v) = app.post("/referrals", &t, theirs).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("pathway.other-patient"))
    );

    // Bad clock events are refused and change nothing.
    for bad in [
        json!({ "event": "dna", "date": d(1) }),
        json!({ "event": "active-monitoring", "date": d(1) }),
        json!({ "event": "treated", "date": "2999-01-01" }),
        json!({ "event": "treated", "date": "yesterday" }),
        json!({ "event": "healed", "date": d(1) }),
        json!({ "event": "non-rtt", "date": d(1), "non_rtt_code": 93 }),
    ] {
        let (s, v) = app
            .post(&format!("/pathways/{pid}/clock-events"), &t, bad.clone())
            .await;
        assert_eq!(s, 422, "{bad}: {v}");
    }
    let (_, after) = app.get(&format!("/pathways/{pid}"), &t).await;
    assert_eq!(after["events"].as_array().unwrap().len(), 3);

    // Each change published the pathway as it stands, keyed by the patient.
    let msgs = kit::read_topic(
        &app.kafka,
        &app.topic(0, "referrals", "rtt"),
        14,
        Duration::from_secs(30),
    )
    .await;
    let last = msgs
        .iter()
        .rev()
        .map(|m| pb::RttPathwayChanged::decode(m.payload.as_slice()).unwrap())
        .find(|m| m.pathway_id == pid)
        .unwrap();
    assert_eq!(last.periods.len(), 2);
    assert_eq!(last.periods[0].stop_code, 30);
    assert_eq!(last.ppid, "RTX0000123");
    app.stop().await;
}

#[tokio::test]
async fn a_relationship_from_the_access_service_opens_a_patients_pathways() {
    let app = TestApp::spawn(1).await;
    let team = "RHEUM";
    let t = app.team_member(0, "rheum-1", team);
    let p = app.known_patient(0).await;
    let r = app.refer(0, &t, gp_referral(&p, team, "410", 20)).await;
    let pathway = r["pathway_id"].as_str().unwrap();
    let gp_liaison = app.token(0, "dr-liaison", &[INBOUND], &[]);
    let (s, v) = app.get(&format!("/pathways/{pathway}"), &gp_liaison).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("access.relationship")));
    let (s, _) = app
        .get(&format!("/pathways?patient_id={p}"), &gp_liaison)
        .await;
    assert_eq!(s, 403);

    // The access service grants dr-liaison a relationship: the projection here applies it.
    let granted = access::RelationshipGranted {
        id: uuid::Uuid::now_v7().to_string(),
        patient_id: p.clone(),
        user_id: "dr-liaison".into(),
        team: String::new(),
        starts_at: (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339(),
        ends_at: String::new(),
        origin: "colleague-granted".into(),
        reason_code: "15".into(),
        source: String::new(),
    };
    kit::produce(
        &app.kafka,
        &app.topic(0, "access", "relationship"),
        &p,
        "uk.nhs.tessera.access.RelationshipGranted.v1",
        granted.encode_to_vec(),
    )
    .await;
    let ok = kit::wait_until(Duration::from_secs(30), || async {
        app.get(&format!("/pathways/{pathway}"), &gp_liaison)
            .await
            .0
            == 200
    })
    .await;
    assert!(ok, "the relationship never reached the projection");
    let (s, v) = app
        .get(&format!("/pathways?patient_id={p}"), &gp_liaison)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["total"], 1);
    // A patient with no pathways: an empty list for whoever may see the patient, a refusal
    // for anyone else.
    let (s, v) = app
        .get(&format!("/pathways?patient_id={}", patient()), &gp_liaison)
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("access.relationship")));
    let (s, v) = app.get(&format!("/pathways?patient_id={p}"), &t).await;
    assert_eq!((s, v["total"].as_i64()), (200, Some(1)));
    let (s, _) = app
        .get(
            &format!("/referrals/{}", r["id"].as_str().unwrap()),
            &gp_liaison,
        )
        .await;
    assert_eq!(s, 200);
    // The audit record of a permitted read says how old the projection was.
    let schema = app.schema(0);
    let n = app
        .scalar(&format!("SELECT count(*) AS n FROM {schema}.audit_log WHERE action = 'pathway.read' AND outcome = 'permit' AND user_id = 'dr-liaison' AND projection_age_ms IS NOT NULL"))
        .await;
    assert!(n >= 1);
    app.stop().await;
}
