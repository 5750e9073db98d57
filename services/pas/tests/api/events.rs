//! What the others are told, read back from the broker as they would read it; and what
//! this service takes from scheduling: an attended appointment becomes one outpatient
//! activity record, however often its closure arrives.
use crate::helpers::*;
use prost::Message as _;
use serde_json::json;
use std::time::Duration;
use tessera_proto::pas::v1 as pb;
use tessera_proto::scheduling::v1::AppointmentClosed;
use tessera_testkit as kit;

#[tokio::test]
async fn admissions_transfers_and_discharges_reach_the_broker_for_access_and_referrals() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds_a) = app.ward(0, "EVA", 1).await;
    let (_, beds_b) = app.ward(0, "EVB", 1).await;
    let p = app.patient(0).await;
    let mut body = admission(&p, &beds_a[0]);
    body["ppid"] = json!("RXR0000000000000042");
    body["ppid_issuer"] = json!("rxr");
    body["admission_purpose"] = json!("treatment");
    let (s, v) = app.post("/admissions", &staff, body).await;
    assert_eq!(s, 201, "{v}");
    let spell = v["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/transfer"),
            &staff,
            json!({ "bed_id": beds_b[0] }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200);

    let topic = format!("tessera.{}.pas.encounter", app.tenants[0].to_lowercase());
    let events = kit::read_events(&app.kafka, &topic, 3, Duration::from_secs(30)).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e.headers["ce_type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "uk.nhs.tessera.pas.PatientAdmitted.v1",
            "uk.nhs.tessera.pas.PatientTransferred.v1",
            "uk.nhs.tessera.pas.PatientDischarged.v1"
        ]
    );
    assert!(events.iter().all(|e| e.key.as_deref() == Some(p.as_str())));
    let a = pb::PatientAdmitted::decode(events[0].payload.as_slice()).unwrap();
    assert_eq!(
        (
            a.encounter_id.as_str(),
            a.ward_team.as_str(),
            a.consultant_user_id.as_str()
        ),
        (spell.as_str(), "EVA-TEAM", "C100")
    );
    assert_eq!(
        (
            a.ppid.as_str(),
            a.ppid_issuer.as_str(),
            a.admission_purpose.as_str()
        ),
        ("RXR0000000000000042", "RXR", "treatment")
    );
    let t = pb::PatientTransferred::decode(events[1].payload.as_slice()).unwrap();
    assert_eq!(
        (t.ward_team.as_str(), t.bed_code.as_str()),
        ("EVB-TEAM", "B001")
    );
    let d = pb::PatientDischarged::decode(events[2].payload.as_slice()).unwrap();
    assert_eq!(
        (
            d.discharge_method.as_str(),
            d.discharge_destination.as_str()
        ),
        ("1", "19")
    );

    let topic = format!("tessera.{}.pas.activity", app.tenants[0].to_lowercase());
    let events = kit::read_events(&app.kafka, &topic, 1, Duration::from_secs(30)).await;
    assert_eq!(events.len(), 1);
    let r = pb::ActivityRecorded::decode(events[0].payload.as_slice()).unwrap();
    assert_eq!(
        (r.kind.as_str(), r.spell_id.as_str(), r.ppid.as_str()),
        ("apc-episode", spell.as_str(), "RXR0000000000000042")
    );
    app.stop().await;
}

fn closed(appointment: &str, patient: &str, attendance: &str, slot_type: &str) -> Vec<u8> {
    AppointmentClosed {
        appointment_id: appointment.into(),
        patient_id: patient.into(),
        closed_at: chrono::Utc::now().to_rfc3339(),
        outcome: "attended".into(),
        attendance: attendance.into(),
        appointment_date: "2026-12-01".into(),
        treatment_function: "110".into(),
        clinician_user_id: "C300".into(),
        slot_type: slot_type.into(),
        ppid: "RXR0000000000000077".into(),
        ppid_issuer: "RXR".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

#[tokio::test]
async fn an_attended_appointment_becomes_one_outpatient_record_however_often_it_arrives() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let topic = format!(
        "tessera.{}.scheduling.appointment",
        app.tenants[0].to_lowercase()
    );
    let (attended, followup, dna) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    let ty = "uk.nhs.tessera.scheduling.AppointmentClosed.v1";
    for _ in 0..3 {
        kit::produce(
            &app.kafka,
            &topic,
            &p,
            ty,
            closed(&attended.to_string(), &p, "5", "new"),
        )
        .await;
    }
    kit::produce(
        &app.kafka,
        &topic,
        &p,
        ty,
        closed(&followup.to_string(), &p, "6", "follow-up"),
    )
    .await;
    kit::produce(
        &app.kafka,
        &topic,
        &p,
        ty,
        closed(&dna.to_string(), &p, "3", "new"),
    )
    .await;
    // Undecodable and unreadable messages are refused, not retried forever, and do not
    // stop the ones behind them.
    kit::produce(&app.kafka, &topic, &p, ty, vec![0xff, 0xff, 0xff]).await;
    let last = uuid::Uuid::now_v7();
    kit::produce(
        &app.kafka,
        &topic,
        &p,
        ty,
        closed(&last.to_string(), &p, "5", "new"),
    )
    .await;
    let schema = app.schema(0);
    let seen = kit::wait_until(Duration::from_secs(30), || async {
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.attendance"))
            .await
            == 4
    })
    .await;
    assert!(seen, "the four closures were kept");
    let n = |w: String| {
        let (app, schema) = (&app, schema.clone());
        async move {
            app.scalar(&format!(
                "SELECT count(*) AS n FROM {schema}.activity WHERE kind = 'outpatient' AND {w}"
            ))
            .await
        }
    };
    assert_eq!(n("true".into()).await, 3, "attended and late-seen only");
    assert_eq!(
        n(format!(
            "source_id = '{attended}' AND first_attendance = '1' AND treatment_function = '110'"
        ))
        .await,
        1
    );
    assert_eq!(
        n(format!(
            "source_id = '{followup}' AND first_attendance = '2' AND attendance_code = '6'"
        ))
        .await,
        1
    );
    assert_eq!(n(format!("source_id = '{dna}'")).await, 0);

    let (s, r) = app
        .get(
            "/reports/reconciliation?from=2026-11-01&to=2026-12-31",
            &app.coder(0),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["attended_appointments"].as_i64(),
            r["activity_records"].as_i64()
        ),
        (Some(3), Some(3)),
        "{r}"
    );
    assert!(
        r["missing"].as_array().unwrap().is_empty() && r["doubled"].as_array().unwrap().is_empty()
    );
    app.stop().await;
}
