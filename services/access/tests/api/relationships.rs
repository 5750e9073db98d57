use crate::helpers::*;
use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_proto::{access::v1 as pb, referrals::v1 as referrals};
use tessera_testkit as kit;

#[tokio::test]
async fn a_self_claimed_relationship_is_time_boxed_published_and_alerted() {
    let app = TestApp::spawn(1).await;
    let p = app.known_patient(0).await;
    let dr = app.clinician(0, "dr-a");
    let (s, r) = app
        .send(Method::POST, "/relationships", &dr, Some(json!({
            "patient_id": p, "reason_code": "04", "justification": "seen in clinic, record not linked", "days": 2
        })))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["origin"], "self-claimed");
    assert_eq!(r["user_id"], "dr-a");
    let ends = chrono::DateTime::parse_from_rfc3339(r["ends_at"].as_str().unwrap()).unwrap();
    let days = (ends.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((47..=48).contains(&days), "ends in {days} hours");
    // On the relationship topic for every projection.
    let topic = format!(
        "tessera.{}.access.relationship",
        app.tenant(0).to_lowercase()
    );
    let got = kit::read_topic(&app.kafka, &topic, 1, Duration::from_secs(10)).await;
    let granted: Vec<pb::RelationshipGranted> = got
        .iter()
        .filter(|m| {
            m.headers.get("ce_type").map(String::as_str)
                == Some(tessera_access::projection::types::RELATIONSHIP_GRANTED)
        })
        .map(|m| pb::RelationshipGranted::decode(m.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].patient_id, p);
    assert_eq!(granted[0].reason_code, "04");
    // A self-claimed relationship is an alert for the privacy officer.
    let (s, a) = app
        .send(Method::GET, "/alerts", &app.privacy_officer(0), None)
        .await;
    assert_eq!(s, 200);
    let alerts = a["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["kind"], "self-claimed");
    assert_eq!(alerts[0]["grant_id"], r["id"]);
    // Listed, then ended.
    let (_, l) = app
        .send(
            Method::GET,
            &format!("/relationships?patient_id={p}"),
            &dr,
            None,
        )
        .await;
    assert_eq!(l["relationships"].as_array().unwrap().len(), 1);
    let (s, e) = app
        .send(
            Method::POST,
            &format!("/relationships/{}/end", r["id"].as_str().unwrap()),
            &dr,
            Some(json!({"reason": "done"})),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["ended_reason"], "done");
    app.stop().await;
}

#[tokio::test]
async fn bad_claims_are_refused_with_the_field_and_change_nothing() {
    let app = TestApp::spawn(1).await;
    let p = app.known_patient(0).await;
    let dr = app.clinician(0, "dr-a");
    let cases = [
        (
            json!({ "patient_id": p, "reason_code": "18", "justification": "x" }),
            "reason_code",
        ),
        (
            json!({ "patient_id": p, "reason_code": "1", "justification": "x" }),
            "reason_code",
        ),
        (
            json!({ "patient_id": p, "reason_code": "04", "justification": "  " }),
            "justification",
        ),
        (
            json!({ "patient_id": "not-a-uuid", "reason_code": "04", "justification": "x" }),
            "patient_id",
        ),
        (
            json!({ "patient_id": p, "reason_code": "15", "justification": "x" }),
            "user_id",
        ),
        (
            json!({ "patient_id": p, "reason_code": "01", "justification": "x", "user_id": "dr-b" }),
            "user_id",
        ),
        (
            json!({ "patient_id": p, "reason_code": "04", "justification": "x", "days": 31 }),
            "days",
        ),
    ];
    for (body, field) in cases {
        let (s, r) = app
            .send(Method::POST, "/relationships", &dr, Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{body} → {r}");
        assert_eq!(r["errors"][0]["field"], field, "{body} → {r}");
    }
    let (s, r) = app
        .send(
            Method::POST,
            "/relationships",
            &dr,
            Some(json!({ "patient_id": p, "reason_code": "04" })),
        )
        .await;
    assert_eq!(s, 400, "missing field: {r}");
    // A role without the claim activity.
    let clerk = app.token(0, "c", "R8000", &["B1101"], &[]);
    let (s, r) = app
        .send(
            Method::POST,
            "/relationships",
            &clerk,
            Some(json!({ "patient_id": p, "reason_code": "04", "justification": "x" })),
        )
        .await;
    assert_eq!((s, r["code"].as_str()), (403, Some("access.activity")));
    let schema = app.schema(0);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.relationship"))
            .await,
        0
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.alert"))
            .await,
        0
    );
    // Colleague-granted to a team is fine.
    let (s, r) = app
        .send(Method::POST, "/relationships", &dr, Some(json!({ "patient_id": p, "reason_code": "16", "justification": "handover", "team": "ward-9" })))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["origin"].as_str(), r["team"].as_str()),
        (Some("colleague-granted"), Some("ward-9"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_referral_accepted_grants_the_team_a_relationship_that_ends_after_the_grace_period() {
    let app = TestApp::spawn(1).await;
    let p = app.known_patient(0).await;
    let po = app.privacy_officer(0);
    let (s, _) = app
        .send(
            Method::PUT,
            "/relationship-rules/referral",
            &po,
            Some(json!({ "grace_days": 7 })),
        )
        .await;
    assert_eq!(s, 204);
    let topic = format!(
        "tessera.{}.referrals.referral",
        app.tenant(0).to_lowercase()
    );
    let accepted = referrals::ReferralAccepted {
        referral_id: "R-1".into(),
        patient_id: p.clone(),
        team: "cardiology".into(),
        clinician_user_id: "dr-c".into(),
        accepted_at: "2026-11-01T09:00:00Z".into(),
    };
    let sent = Instant::now();
    kit::produce(
        &app.kafka,
        &topic,
        &p,
        "uk.nhs.tessera.referrals.ReferralAccepted.v1",
        accepted.encode_to_vec(),
    )
    .await;
    let dr = app.clinician(0, "dr-a");
    let path = format!("/relationships?patient_id={p}");
    let seen = kit::wait_until(Duration::from_secs(20), || async {
        let (_, l) = app.send(Method::GET, &path, &dr, None).await;
        l["relationships"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    assert!(seen, "the referral's relationships never appeared");
    eprintln!("referral → relationship in {:?}", sent.elapsed());
    let (_, l) = app.send(Method::GET, &path, &dr, None).await;
    let rels = l["relationships"].as_array().unwrap();
    assert!(rels.iter().all(|r| r["origin"] == "referral"
        && r["source"] == "referral:R-1"
        && r["ends_at"].is_null()));
    assert!(rels.iter().any(|r| r["team"] == "cardiology"));
    assert!(rels.iter().any(|r| r["user_id"] == "dr-c"));
    let closed = referrals::ReferralClosed {
        referral_id: "R-1".into(),
        patient_id: p.clone(),
        closed_at: "2026-11-10T12:00:00Z".into(),
        reason: "discharged".into(),
    };
    kit::produce(
        &app.kafka,
        &topic,
        &p,
        "uk.nhs.tessera.referrals.ReferralClosed.v1",
        closed.encode_to_vec(),
    )
    .await;
    let ended = kit::wait_until(Duration::from_secs(20), || async {
        let (_, l) = app.send(Method::GET, &path, &dr, None).await;
        l["relationships"].as_array().is_some_and(|a| {
            a.iter().all(|r| {
                r["ends_at"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("2026-11-17T12:00:00"))
            })
        })
    })
    .await;
    assert!(
        ended,
        "the relationships did not end 7 days after the referral closed"
    );
    app.stop().await;
}

#[tokio::test]
async fn teams_have_members_and_caseloads() {
    let app = TestApp::spawn(1).await;
    let m = app.manager(0);
    let (s, t) = app
        .send(
            Method::PUT,
            "/teams/sexual-health",
            &m,
            Some(json!({ "name": "Sexual health" })),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let (s, t) = app
        .send(
            Method::PUT,
            "/teams/sexual-health/members",
            &m,
            Some(json!({ "members": ["dr-x", "nurse-y"] })),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["members"], json!(["dr-x", "nurse-y"]));
    let (s, _) = app
        .send(
            Method::PUT,
            "/teams/nope/members",
            &m,
            Some(json!({ "members": ["a"] })),
        )
        .await;
    assert_eq!(s, 404);
    let p = app.known_patient(0).await;
    let (s, r) = app
        .send(
            Method::POST,
            "/teams/sexual-health/caseload",
            &m,
            Some(json!({ "patient_id": p })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["origin"].as_str(), r["team"].as_str()),
        (Some("caseload"), Some("sexual-health"))
    );
    let topic = format!(
        "tessera.{}.access.relationship",
        app.tenant(0).to_lowercase()
    );
    let got = kit::read_topic(&app.kafka, &topic, 2, Duration::from_secs(10)).await;
    let membership = got
        .iter()
        .find(|m| {
            m.headers.get("ce_type").map(String::as_str)
                == Some(tessera_access::projection::types::TEAM_MEMBERSHIP)
        })
        .map(|m| pb::TeamMembership::decode(m.payload.as_slice()).unwrap())
        .unwrap();
    assert_eq!(
        membership.members,
        vec!["dr-x".to_string(), "nurse-y".to_string()]
    );
    app.stop().await;
}
