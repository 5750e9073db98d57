//! Letters from what happened elsewhere: an attended outpatient appointment (scheduling's
//! `AppointmentClosed`) drafts a clinic letter to the patient's GP practice (from the MPI's
//! patient event) for the clinician; signed, it renders to a PDF that an independent reader
//! (lopdf) opens, and `LetterReady` says so. A discharge (PAS) drafts a discharge summary for
//! the responsible consultant. Each once, however often the event comes.
use crate::helpers::*;
use prost::Message as _;
use reqwest::Method;
use std::time::Duration;
use tessera_proto::{mpi::v1 as mpi, pas::v1 as pas, scheduling::v1 as scheduling};
use tessera_testkit as kit;

async fn registered(app: &TestApp, patient: &str) {
    let m = mpi::PatientRegistered {
        patient_id: patient.into(),
        tenant: app.tenants[0].clone(),
        version: 1,
        demographics: Some(mpi::Demographics {
            nhs_number: "9434765919".into(),
            general_practice: "Y01234".into(),
            ..Default::default()
        }),
        registered_at: chrono::Utc::now().to_rfc3339(),
    };
    kit::produce(
        &app.kafka,
        &app.topic(0, "mpi", "patient"),
        patient,
        "uk.nhs.tessera.mpi.PatientRegistered.v1",
        m.encode_to_vec(),
    )
    .await;
}

async fn letters_of(
    app: &TestApp,
    patient: &str,
    token: &str,
    type_code: &str,
) -> Vec<serde_json::Value> {
    let path = format!("/documents?patient_id={patient}&type={type_code}");
    let list = || async {
        app.get(&path, token).await.body["documents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    kit::wait_until(Duration::from_secs(30), || async {
        !list().await.is_empty()
    })
    .await;
    // A redelivery a moment later must not add a second.
    tokio::time::sleep(Duration::from_millis(500)).await;
    list().await
}

#[tokio::test]
async fn an_outpatient_outcome_drafts_a_letter_that_signed_renders_to_a_pdf() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    registered(&app, &p).await;
    let details = format!(
        "SELECT count(*) AS n FROM {}.patient_detail WHERE patient_id = '{p}'",
        app.schema(0)
    );
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            app.scalar(&details).await == 1
        })
        .await
    );

    let appointment = uuid::Uuid::now_v7().to_string();
    let closed = scheduling::AppointmentClosed {
        appointment_id: appointment.clone(),
        patient_id: p.clone(),
        closed_at: chrono::Utc::now().to_rfc3339(),
        outcome: "follow-up in 6 weeks".into(),
        attendance: "5".into(),
        appointment_date: "2026-12-07".into(),
        treatment_function: "100".into(),
        clinician_user_id: "dr-surgeon".into(),
        slot_type: "new".into(),
        ..Default::default()
    };
    // Delivered twice (a redelivery): one letter.
    for _ in 0..2 {
        kit::produce(
            &app.kafka,
            &app.topic(0, "scheduling", "appointment"),
            &p,
            "uk.nhs.tessera.scheduling.AppointmentClosed.v1",
            closed.encode_to_vec(),
        )
        .await;
    }
    let surgeon = app.clinician(0, "dr-surgeon");
    let found = letters_of(&app, &p, &surgeon, "371531000").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let a = app.get(&format!("/documents/{id}"), &surgeon).await;
    assert_eq!(
        (a.body["status"].as_str(), a.body["author_user"].as_str()),
        (Some("draft"), Some("dr-surgeon"))
    );
    assert_eq!(a.body["letter_to"], "Y01234");
    assert_eq!(a.body["context_kind"], "appointment");
    let text = a.body["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("9434765919")
            && text.contains("2026-12-07")
            && text.contains("follow-up in 6 weeks"),
        "{text}"
    );

    // The surgeon completes and signs it; the PDF renders; an independent reader opens it.
    let completed = text.replace(
        "[Findings and plan]",
        "Hernia repaired; wound healed. Discharged to your care.",
    );
    let a = app
        .send(
            Method::PUT,
            &format!("/documents/{id}"),
            &surgeon,
            Some(1),
            Some(serde_json::json!({ "text": completed })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = app
        .send(
            Method::POST,
            &format!("/documents/{id}/sign"),
            &surgeon,
            Some(2),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["status"].as_str()),
        (200, Some("final")),
        "{}",
        a.body
    );
    let (s, pdf) = app
        .bytes(&format!("/documents/{id}/versions/3/pdf"), &surgeon)
        .await;
    assert_eq!(s, 200);
    let doc = lopdf::Document::load_mem(&pdf).expect("a PDF lopdf can read");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let words = doc.extract_text(&pages).unwrap();
    for want in [
        "Outpatient clinic letter",
        "Y01234",
        "9434765919",
        "Hernia repaired",
        "dr-surgeon",
    ] {
        assert!(
            words.contains(want),
            "{want} missing from the PDF's text: {words}"
        );
    }
    // No PDF for a draft's version.
    assert_eq!(
        app.bytes(&format!("/documents/{id}/versions/2/pdf"), &surgeon)
            .await
            .0,
        404
    );

    let events = kit::read_events(
        &app.kafka,
        &app.topic(0, "clinical-docs", "document"),
        5,
        Duration::from_secs(30),
    )
    .await;
    let ready: Vec<_> = events
        .iter()
        .filter(|e| e.headers["ce_type"].ends_with("LetterReady.v1"))
        .collect();
    assert_eq!(ready.len(), 1);
    let m =
        tessera_proto::clinicaldocs::v1::LetterReady::decode(ready[0].payload.as_slice()).unwrap();
    assert_eq!((m.version, m.gp_practice.as_str()), (3, "Y01234"));
    use sha2::Digest as _;
    assert_eq!(m.pdf_sha256, hex::encode(sha2::Sha256::digest(&pdf)));
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_discharge_drafts_a_summary_for_the_responsible_consultant() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let spell = uuid::Uuid::now_v7().to_string();
    let topic = app.topic(0, "pas", "encounter");
    let admitted = pas::PatientAdmitted {
        encounter_id: spell.clone(),
        patient_id: p.clone(),
        ward_team: "WARD-A".into(),
        consultant_user_id: "dr-first".into(),
        admitted_at: chrono::Utc::now().to_rfc3339(),
        ..Default::default()
    };
    let changed = pas::EpisodeChanged {
        encounter_id: spell.clone(),
        patient_id: p.clone(),
        consultant_user_id: "dr-second".into(),
        ..Default::default()
    };
    let discharged = pas::PatientDischarged {
        encounter_id: spell.clone(),
        patient_id: p.clone(),
        discharged_at: "2026-12-07T10:00:00Z".into(),
        discharge_method: "1".into(),
        discharge_destination: "19".into(),
    };
    let batch = vec![
        (
            p.clone(),
            "uk.nhs.tessera.pas.PatientAdmitted.v1".to_string(),
            admitted.encode_to_vec(),
        ),
        (
            p.clone(),
            "uk.nhs.tessera.pas.EpisodeChanged.v1".to_string(),
            changed.encode_to_vec(),
        ),
        (
            p.clone(),
            "uk.nhs.tessera.pas.PatientDischarged.v1".to_string(),
            discharged.encode_to_vec(),
        ),
    ];
    kit::produce_many(&app.kafka, &topic, batch).await;
    let consultant = app.clinician(0, "dr-second");
    let found = letters_of(&app, &p, &consultant, "373942005").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["author_user"], "dr-second");
    app.shutdown.trigger();
}
