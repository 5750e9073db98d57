//! Issue 5's end to end: a referral accepted in one trust appears on its waiting list, gives
//! the receiving team a relationship the MPI enforces within 2 s, and a recorded treatment
//! stops the clock; none of it is visible to another trust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_e2e::{shows_contact, Platform};
use tessera_testkit as kit;

const VIEW: &str = "B0820";
const INBOUND: &str = "B1110";

async fn contact_shown(p: &Platform, _trust: usize, patient: &str, token: &str) -> bool {
    let a = p
        .mpi(Method::GET, &format!("/patients/{patient}"), token, None)
        .await;
    a.status == 200 && shows_contact(&a.body)
}

fn referral(patient: &str, received: &str) -> serde_json::Value {
    json!({
        "patient_id": patient,
        "source": "gp",
        "referrer": { "code": "G1234567", "organisation": "A81001" },
        "priority": "urgent",
        "specialty": "100",
        "treatment_function": "100",
        "receiving_service": "General Surgery Outpatients",
        "receiving_team": "GSURG",
        "received_on": received,
    })
}

fn day(ago: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(ago)).to_string()
}

async fn on_list(p: &Platform, token: &str, pathway: &str) -> bool {
    let a = p.referrals(Method::GET, "/waiting-list", token, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["pathway_id"] == pathway)
}

#[tokio::test]
async fn a_referral_accepted_in_one_trust_is_listed_grants_the_relationship_and_stops_on_treatment()
{
    let p = Platform::start_with_referrals(2).await;
    let (rxr, rbt) = (0, 1);
    // A surgeon of RXR's general surgery team: views demographics, manages inbound referrals.
    let surgeon = p.token(rxr, "mr-cutter", "R8000", &[VIEW, INBOUND], &["GSURG"]);

    // Warm-up: consumers on every side have found the topics once a first referral's
    // relationship reaches the MPI (in a trust the topics exist from onboarding).
    let warm = p.register_known(rxr, "Warmup").await;
    let w = p
        .referrals(
            Method::POST,
            "/referrals",
            &surgeon,
            Some(referral(&warm, &day(3))),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    let wid = w.body["id"].as_str().unwrap();
    let a = p
        .referrals(
            Method::POST,
            &format!("/referrals/{wid}/transitions"),
            &surgeon,
            Some(json!({ "to": "ACCEPTED" })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        kit::wait_until(Duration::from_secs(30), || contact_shown(
            &p, rxr, &warm, &surgeon
        ))
        .await,
        "the warm-up relationship never reached the MPI"
    );

    // The patient, registered in RXR; the surgeon sees who they are but not their address.
    let patient = p.register_known(rxr, "Referred").await;
    assert!(!contact_shown(&p, rxr, &patient, &surgeon).await);

    // A GP referral received 20 days ago: on RXR's list from receipt.
    let r = p
        .referrals(
            Method::POST,
            "/referrals",
            &surgeon,
            Some(referral(&patient, &day(20))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let pathway = r.body["pathway_id"].as_str().unwrap().to_string();
    assert!(on_list(&p, &surgeon, &pathway).await);

    // Accepted: the access service grants GSURG a relationship, and the MPI honours it.
    let t0 = Instant::now();
    let a = p
        .referrals(
            Method::POST,
            &format!("/referrals/{id}/transitions"),
            &surgeon,
            Some(json!({ "to": "ACCEPTED", "clinician": "mr-cutter" })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let enforced = kit::wait_until(Duration::from_secs(2), || {
        contact_shown(&p, rxr, &patient, &surgeon)
    })
    .await;
    let took = t0.elapsed();
    assert!(
        enforced,
        "the referral's relationship was not enforced by the MPI within 2 s"
    );
    eprintln!("referral accepted → relationship enforced by the MPI in {took:?}");
    // Another RXR team still has none.
    let other = p.token(rxr, "dr-skin", "R8000", &[VIEW, INBOUND], &["DERM"]);
    assert!(!contact_shown(&p, rxr, &patient, &other).await);

    // Still waiting, by the consultant, 20 days.
    let wl = p
        .referrals(
            Method::GET,
            "/waiting-list?consultant=mr-cutter",
            &surgeon,
            None,
        )
        .await;
    let mine: Vec<&serde_json::Value> = wl.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["pathway_id"] == pathway.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["days_waited"], 20);
    assert_eq!(mine[0]["patient_id"], patient.as_str());

    // Treated in clinic yesterday: the clock stops (30) and the pathway leaves the list.
    let c = p
        .referrals(
            Method::POST,
            &format!("/pathways/{pathway}/clock-events"),
            &surgeon,
            Some(json!({ "event": "treated", "date": day(1) })),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body["clock"], "stopped");
    assert_eq!(c.body["periods"][0]["stop_code"], 30);
    assert_eq!(c.body["periods"][0]["days_waited"], 19);
    assert!(!on_list(&p, &surgeon, &pathway).await);

    // None of it is visible to RBT: not the referral, the pathway, the list, nor the patient.
    let rbt_surgeon = p.token(rbt, "mr-cutter", "R8000", &[VIEW, INBOUND], &["GSURG"]);
    let a = p
        .referrals(Method::GET, &format!("/referrals/{id}"), &rbt_surgeon, None)
        .await;
    assert_eq!(a.status, 404);
    let a = p
        .referrals(
            Method::GET,
            &format!("/pathways/{pathway}"),
            &rbt_surgeon,
            None,
        )
        .await;
    assert_eq!(a.status, 404);
    let a = p
        .referrals(
            Method::GET,
            &format!("/referrals?patient_id={patient}"),
            &rbt_surgeon,
            None,
        )
        .await;
    assert_eq!(a.body["total"], 0);
    let a = p
        .referrals(Method::GET, "/waiting-list", &rbt_surgeon, None)
        .await;
    assert_eq!((a.status, a.body["total"].as_i64()), (200, Some(0)));
    let a = p
        .referrals(Method::GET, "/waiting-list/standard", &rbt_surgeon, None)
        .await;
    assert_eq!(a.body["trust"]["incomplete"], 0);
    let a = p
        .mpi(
            Method::GET,
            &format!("/patients/{patient}"),
            &rbt_surgeon,
            None,
        )
        .await;
    assert_eq!(a.status, 404);
    // Nor is any of it on RBT's topics.
    let msgs = kit::read_topic(
        &p.kafka,
        &p.topic(rbt, "referrals", "referral"),
        1,
        Duration::from_secs(2),
    )
    .await;
    assert!(msgs.is_empty());
    let schema = format!("t_{}", p.tenant(rbt).to_lowercase());
    let n = Platform::scalar(
        &p.referrals_db,
        &format!("SELECT count(*) AS n FROM {schema}.referral"),
    )
    .await;
    assert_eq!(n, 0);
    p.stop().await;
}
