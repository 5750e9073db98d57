//! Issue 16's end to end, across the MPI, access, referrals and PAS through the broker: a
//! referral accepted in RXR (the clock starts); a decision to admit puts the patient on the
//! admitted waiting list (the pathway records the decision to treat; the clock runs on); a
//! to-come-in date is offered and accepted; the admission from the list stops the RTT period
//! with code 30, and the ward's team sees the patient's contact details in the MPI while they
//! are in; discharged — one activity record carries the RTT group, and the ward team's
//! relationship ends after the trust's grace days for admissions; none of it visible to RBT.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration as Days, Utc};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tessera_e2e::{shows_contact, Platform};
use tessera_testkit as kit;

const VIEW: &str = "B0820";
const INBOUND_REFERRALS: &str = "B1110";
const INPATIENTS: &str = "B0264";
const CODING: &str = "B0370";

async fn contact_shown(p: &Platform, patient: &str, token: &str) -> bool {
    let a = p
        .mpi(Method::GET, &format!("/patients/{patient}"), token, None)
        .await;
    a.status == 200 && shows_contact(&a.body)
}

#[tokio::test]
async fn a_decision_to_admit_waits_then_the_admission_stops_the_clock_opens_the_ward_and_is_billed_once(
) {
    let p = Platform::start_with_referrals(2).await;
    let (rxr, rbt) = (0, 1);
    let surgeon = p.token(
        rxr,
        "mr-cutter",
        "R8000",
        &[VIEW, INBOUND_REFERRALS],
        &["GSURG"],
    );
    let office = p.token(rxr, "admissions", "R8000", &[INPATIENTS], &[]);
    let coder = p.token(rxr, "coder", "R8000", &[CODING], &[]);
    let nurse = p.token(rxr, "nurse-w7", "R8000", &[VIEW], &["WARD7"]);
    let officer = p.token(rxr, "privacy", "R0001", &[VIEW], &[]);

    // The trust keeps an inpatient's ward team for one day after discharge.
    let g = p
        .access(
            Method::PUT,
            "/relationship-rules/admission",
            &officer,
            Some(json!({ "grace_days": 1 })),
        )
        .await;
    assert_eq!(g.status, 204, "{}", g.body);

    let patient = p.register_known(rxr, "Inpatient").await;
    let referral = p.refer_and_accept(&surgeon, &patient).await;
    let r = p
        .referrals(
            Method::GET,
            &format!("/referrals/{referral}"),
            &surgeon,
            None,
        )
        .await;
    let (pathway, ppid, issuer) = (
        r.body["pathway_id"].as_str().unwrap().to_string(),
        r.body["ppid"].as_str().unwrap().to_string(),
        r.body["ppid_issuer"].as_str().unwrap().to_string(),
    );
    assert!(!contact_shown(&p, &patient, &nurse).await);

    let w = p
        .pas(
            Method::POST,
            "/wards",
            &office,
            Some(
                json!({ "code": "WARD7", "name": "Ward 7", "site": "Main", "team": "WARD7",
                         "beds": [{ "code": "B1" }, { "code": "B2" }] }),
            ),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    let board = p
        .pas(
            Method::GET,
            &format!("/wards/{}/board", w.body["id"].as_str().unwrap()),
            &office,
            None,
        )
        .await;
    let bed = board.body["beds"][0]["id"].as_str().unwrap().to_string();

    // The surgeon decides to admit: the patient joins the admitted waiting list on the
    // referral's pathway, is offered a date and accepts it.
    let today = Utc::now().date_naive();
    let e = p
        .pas(
            Method::POST,
            "/waiting-list",
            &office,
            Some(json!({ "patient_id": patient, "referral_id": referral, "ppid": ppid, "ppid_issuer": issuer,
                         "decided_on": (today - Days::days(10)).to_string(), "priority": "urgent",
                         "treatment_function": "100", "consultant": "mr-cutter", "procedure": "Hernia repair" })),
        )
        .await;
    assert_eq!(e.status, 201, "{}", e.body);
    let entry = e.body["id"].as_str().unwrap().to_string();
    let o = p
        .pas(
            Method::POST,
            &format!("/waiting-list/{entry}/offers"),
            &office,
            Some(json!({ "tci_date": today.to_string(), "accepted": true })),
        )
        .await;
    assert_eq!(o.status, 200, "{}", o.body);
    let decided = kit::wait_until(Duration::from_secs(30), || async {
        let v = p
            .referrals(Method::GET, &format!("/pathways/{pathway}"), &surgeon, None)
            .await;
        v.body["events"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["event"] == "decision-to-treat"))
            && v.body["clock"] == "running"
    })
    .await;
    assert!(
        decided,
        "the decision to admit was not recorded on the pathway, or stopped its clock"
    );

    // Admitted from the list (three days ago, after downtime): the entry's pathway is the
    // admission's, for treatment.
    let admitted_at = Utc::now() - Days::days(3);
    let a = p
        .pas(
            Method::POST,
            "/admissions",
            &office,
            Some(json!({ "patient_id": patient, "bed_id": bed, "admission_method": "11",
                         "admission_source": "19", "consultant": "mr-cutter", "treatment_function": "100",
                         "waiting_list_entry_id": entry, "admitted_at": admitted_at.to_rfc3339() })),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let spell = a.body["id"].as_str().unwrap().to_string();

    let enforced = kit::wait_until(Duration::from_secs(30), || {
        contact_shown(&p, &patient, &nurse)
    })
    .await;
    assert!(
        enforced,
        "the ward team's relationship never reached the MPI"
    );
    let stopped = kit::wait_until(Duration::from_secs(30), || async {
        let v = p
            .referrals(Method::GET, &format!("/pathways/{pathway}"), &surgeon, None)
            .await;
        v.body["periods"].as_array().is_some_and(|ps| {
            ps.len() == 1 && ps[0]["state"] == "stopped" && ps[0]["stop_code"] == 30
        })
    })
    .await;
    assert!(
        stopped,
        "the admission for treatment did not stop the clock (30)"
    );

    // Discharged two days ago: one activity record with the RTT group; the ward team's
    // relationship ended a day after.
    let discharged_at = Utc::now() - Days::days(2);
    let d = p
        .pas(
            Method::POST,
            &format!("/spells/{spell}/discharge"),
            &office,
            Some(
                json!({ "discharge_method": "1", "discharge_destination": "19",
                         "at": discharged_at.to_rfc3339() }),
            ),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    let ended = kit::wait_until(Duration::from_secs(30), || async {
        !contact_shown(&p, &patient, &nurse).await
    })
    .await;
    assert!(
        ended,
        "the ward team still sees the patient after discharge and grace"
    );
    let month = discharged_at.format("%Y-%m");
    let x = p
        .pas(
            Method::GET,
            &format!("/activity/extract?month={month}"),
            &coder,
            None,
        )
        .await;
    assert_eq!(x.status, 200, "{}", x.body);
    let rows: Vec<_> = x.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["patient_id"] == patient.as_str())
        .collect();
    assert_eq!(rows.len(), 1, "{}", x.body);
    assert_eq!(rows[0]["cds_type"], "130");
    assert_eq!(
        (rows[0]["ppid"].as_str(), rows[0]["ppid_issuer"].as_str()),
        (Some(ppid.as_str()), Some(issuer.as_str()))
    );
    assert_eq!(rows[0]["discharge_method"], "1");

    // Nothing of it in RBT.
    let rbt_office = p.token(rbt, "admissions", "R8000", &[INPATIENTS], &[]);
    let s = p
        .pas(Method::GET, &format!("/spells/{spell}"), &rbt_office, None)
        .await;
    assert_eq!(s.status, 404, "{}", s.body);
    let rbt_coder = p.token(rbt, "coder", "R8000", &[CODING], &[]);
    let x = p
        .pas(
            Method::GET,
            &format!("/activity/extract?month={month}"),
            &rbt_coder,
            None,
        )
        .await;
    assert_eq!(x.body["rows"], json!([]));
    p.stop().await;
}
