use crate::helpers::*;
use prost::Message as _;
use std::time::Duration;
use tessera_proto::{pas::v1 as pas, scheduling::v1 as scheduling};
use tessera_testkit as kit;

async fn read(app: &TestApp, t: &str, pathway: &str) -> serde_json::Value {
    app.get(&format!("/pathways/{pathway}"), t).await.1
}

/// Scheduling's and PAS's events, as docs/contracts/clock-events.md says they must look,
/// reach the pathway they name, once each.
#[tokio::test]
async fn appointment_outcomes_and_admissions_move_the_clock() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let r = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 90))
        .await;
    let (ppid, issuer) = (
        r["ppid"].as_str().unwrap().to_string(),
        r["ppid_issuer"].as_str().unwrap().to_string(),
    );
    let p = r["patient_id"].as_str().unwrap().to_string();
    let pathway = r["pathway_id"].as_str().unwrap().to_string();

    // First appointment attended, then a decision to admit, then a diagnostic admission.
    let attended = scheduling::AppointmentClosed {
        appointment_id: "appt-1".into(),
        patient_id: p.clone(),
        closed_at: chrono::Utc::now().to_rfc3339(),
        outcome: "attended".into(),
        ppid: ppid.clone(),
        ppid_issuer: issuer.clone(),
        attendance: "5".into(),
        first_appointment: true,
        communicated: true,
        rtt_status: "20".into(),
        appointment_date: days_ago(60).to_string(),
        discharged: false,
        ..Default::default()
    };
    let appt_topic = app.topic(0, "scheduling", "appointment");
    kit::produce(
        &app.kafka,
        &appt_topic,
        &p,
        "uk.nhs.tessera.scheduling.AppointmentClosed.v1",
        attended.encode_to_vec(),
    )
    .await;
    // The attendance and the decision come from different services' topics, applied by
    // different consumers: wait for the first, so the order of the two is the clinical one
    // and not a race between consumers.
    let attended_applied = kit::wait_until(Duration::from_secs(30), || async {
        read(&app, &t, &pathway).await["events"]
            .as_array()
            .map(Vec::len)
            == Some(2)
    })
    .await;
    assert!(attended_applied, "{}", read(&app, &t, &pathway).await);
    let dta = pas::DecisionToAdmit {
        waiting_list_entry_id: "wl-1".into(),
        patient_id: p.clone(),
        ppid: ppid.clone(),
        ppid_issuer: issuer.clone(),
        decided_on: days_ago(60).to_string(),
    };
    let pas_topic = app.topic(0, "pas", "encounter");
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.DecisionToAdmit.v1",
        dta.encode_to_vec(),
    )
    .await;
    let admit = |id: &str, purpose: &str, ago: i64| pas::PatientAdmitted {
        encounter_id: id.into(),
        patient_id: p.clone(),
        ward_team: "WARD9".into(),
        consultant_user_id: String::new(),
        admitted_at: format!("{}T09:00:00Z", days_ago(ago)),
        ppid: ppid.clone(),
        ppid_issuer: issuer.clone(),
        admission_purpose: purpose.into(),
    };
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        admit("enc-1", "diagnostic", 30).encode_to_vec(),
    )
    .await;
    let ok = kit::wait_until(Duration::from_secs(30), || async {
        read(&app, &t, &pathway).await["events"]
            .as_array()
            .map(Vec::len)
            == Some(4)
    })
    .await;
    assert!(ok, "{}", read(&app, &t, &pathway).await);
    let v = read(&app, &t, &pathway).await;
    assert_eq!(
        v["clock"], "running",
        "a diagnostic admission does not stop the clock"
    );
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "referral-received",
            "attended",
            "decision-to-treat",
            "admitted-no-treatment"
        ]
    );

    // The admission for treatment stops it on the admission date; delivered twice, once.
    let treat = admit("enc-2", "treatment", 5).encode_to_vec();
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        treat.clone(),
    )
    .await;
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        treat,
    )
    .await;
    // A contract breach (unknown purpose) and another provider's pathway change nothing.
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        admit("enc-3", "holiday", 4).encode_to_vec(),
    )
    .await;
    let mut foreign = admit("enc-4", "treatment", 4);
    foreign.ppid = "ELSEWHERE1".into();
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        foreign.encode_to_vec(),
    )
    .await;
    let ok = kit::wait_until(Duration::from_secs(30), || async {
        read(&app, &t, &pathway).await["clock"] == "stopped"
    })
    .await;
    assert!(ok);
    // Let the rest arrive, then check nothing else changed.
    let marker = admit("enc-5", "pre-operative", 3).encode_to_vec();
    kit::produce(
        &app.kafka,
        &pas_topic,
        &p,
        "uk.nhs.tessera.pas.PatientAdmitted.v1",
        marker,
    )
    .await;
    let ok = kit::wait_until(Duration::from_secs(30), || async {
        read(&app, &t, &pathway).await["events"]
            .as_array()
            .map(Vec::len)
            == Some(6)
    })
    .await;
    let v = read(&app, &t, &pathway).await;
    assert!(ok, "{v}");
    assert_eq!(v["periods"][0]["end_date"], days_ago(5).to_string());
    assert_eq!(v["periods"][0]["stop_code"], 30);
    assert_eq!(v["periods"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// A booking naming a referral moves an ACCEPTED referral to BOOKED, once (a redelivery or a
/// reschedule changes nothing more); a booking naming a referral not yet accepted leaves it.
#[tokio::test]
async fn a_booking_moves_its_accepted_referral_to_booked() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let accepted = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 5))
        .await;
    let untriaged = app
        .refer(0, &t, gp_referral(&patient(), "GSURG", "100", 5))
        .await;
    let id = accepted["id"].as_str().unwrap().to_string();
    let (s, v) = app
        .move_to(&t, &id, serde_json::json!({ "to": "ACCEPTED" }))
        .await;
    assert_eq!(s, 200, "{v}");
    let topic = app.topic(0, "scheduling", "appointment");
    let booked = |r: &serde_json::Value, appt: &str| scheduling::AppointmentBooked {
        appointment_id: appt.into(),
        patient_id: r["patient_id"].as_str().unwrap().into(),
        clinician_user_id: String::new(),
        team: "GSURG".into(),
        starts_at: "2026-12-10T09:00:00+00:00".into(),
        referral_id: r["id"].as_str().unwrap().into(),
        treatment_function: "100".into(),
        ..Default::default()
    };
    for (r, appt) in [(&accepted, "a1"), (&accepted, "a2"), (&untriaged, "a3")] {
        kit::produce(
            &app.kafka,
            &topic,
            r["patient_id"].as_str().unwrap(),
            "uk.nhs.tessera.scheduling.AppointmentBooked.v1",
            booked(r, appt).encode_to_vec(),
        )
        .await;
    }
    let state = |r: serde_json::Value| {
        let (app, t) = (&app, t.clone());
        async move {
            let id = r["id"].as_str().unwrap().to_string();
            app.get(&format!("/referrals/{id}"), &t).await.1["state"].clone()
        }
    };
    let moved = kit::wait_until(Duration::from_secs(30), || async {
        state(accepted.clone()).await == "BOOKED"
    })
    .await;
    assert!(moved, "{}", state(accepted.clone()).await);
    // The third booking was consumed after the first two (one partition per patient key is
    // not one partition overall): wait for the inbox to hold all three before judging it.
    let consumed = kit::wait_until(Duration::from_secs(30), || async {
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.inbox WHERE consumer LIKE '%appointment-clock'",
            app.schema(0)
        ))
        .await
            >= 3
    })
    .await;
    assert!(consumed);
    assert_eq!(state(untriaged.clone()).await, "AWAITING_TRIAGE");
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.referral_transition WHERE referral_id = '{id}' AND to_state = 'BOOKED'",
            app.schema(0)
        ))
        .await,
        1,
        "booked once, whatever the redeliveries"
    );
    app.stop().await;
}
