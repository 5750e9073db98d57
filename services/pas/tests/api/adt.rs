//! The trust's old PAS through the MPI's feed (`mpi.adt`): each forwarded encounter message
//! applied as the API would, in order, once; what cannot be applied goes on the exception
//! list and changes nothing.
use crate::helpers::*;
use prost::Message as _;
use std::time::Duration;
use tessera_proto::mpi::v1::AdtForwarded;
use tessera_testkit as kit;

const TYPE: &str = "uk.nhs.tessera.mpi.AdtForwarded.v1";

fn er7(trigger: &str, control: &str, pv1: &str) -> String {
    format!(
        "MSH|^~\\&|PAS|RXR01|ROUTE|RXR01|20251201093012||ADT^{trigger}|{control}|P|2.4\rEVN|{trigger}|20251201093012\r{pv1}\r"
    )
}

/// PV1 for visit `visit` at `ward^^bed`, admitted or discharged at `time` (local).
fn pv1(visit: &str, location: &str, time: &str) -> String {
    let mut f = vec![""; 46];
    f[0] = "PV1";
    f[1] = "1";
    f[2] = "I";
    f[3] = location;
    f[4] = "21";
    f[7] = "C1234567^CONSULTANT";
    f[10] = "300";
    f[14] = "19";
    f[19] = visit;
    f[36] = "1";
    f[37] = "19";
    f[44] = time;
    f[45] = time;
    f.join("|")
}

async fn send(app: &TestApp, patient: &str, trigger: &str, control: &str, pv1: &str) {
    let m = AdtForwarded {
        patient_id: patient.into(),
        sender: "RXR01|PAS".into(),
        control_id: control.into(),
        trigger: trigger.into(),
        er7: er7(trigger, control, pv1),
        received_at: chrono::Utc::now().to_rfc3339(),
    };
    let topic = format!("tessera.{}.mpi.adt", app.tenants[0].to_lowercase());
    kit::produce(&app.kafka, &topic, patient, TYPE, m.encode_to_vec()).await;
}

#[tokio::test]
async fn a_feeds_admission_transfer_discharge_and_cancellation_apply_in_order_once() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (ward7, _) = app.ward(0, "WARD7", 2).await;
    app.ward(0, "WARD8", 2).await;
    let p = app.patient(0).await;
    let q = app.patient(0).await;
    let schema = app.schema(0);

    send(
        &app,
        &p,
        "A01",
        "M1",
        &pv1("V1", "WARD7^^B001", "202512010900"),
    )
    .await;
    // The same message delivered again (a different event, the same MSH-10): one spell.
    send(
        &app,
        &p,
        "A01",
        "M1",
        &pv1("V1", "WARD7^^B001", "202512010900"),
    )
    .await;
    send(&app, &p, "A02", "M2", &pv1("V1", "WARD8^^B002", "")).await;
    send(
        &app,
        &p,
        "A03",
        "M3",
        &pv1("V1", "WARD8^^B002", "202512031000"),
    )
    .await;
    send(&app, &p, "A13", "M4", &pv1("V1", "", "")).await;
    // Not applicable: an unknown ward; a transfer for a visit nobody has.
    send(
        &app,
        &q,
        "A01",
        "M5",
        &pv1("V2", "NOWARD^^B001", "202512010900"),
    )
    .await;
    send(&app, &q, "A02", "M6", &pv1("V9", "WARD7^^B002", "")).await;
    // Leave of absence: the spell goes on, the patient away.
    send(&app, &p, "A21", "M7", &pv1("V1", "WARD8^^B002", "")).await;

    let settled = kit::wait_until(Duration::from_secs(30), || async {
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.adt_exception")).await == 2
            && app
                .scalar(&format!("SELECT count(*) AS n FROM {schema}.encounter_action WHERE cancelled_at IS NOT NULL"))
                .await
                == 1
            && app
                .scalar(&format!("SELECT count(*) AS n FROM {schema}.encounter_action WHERE kind = 'leave-start'"))
                .await
                == 1
    })
    .await;
    assert!(settled, "the feed's messages were not all applied");
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.spell"))
            .await,
        1
    );
    let (_, l) = app.get(&format!("/spells?patient={p}"), &staff).await;
    let spell = l["spells"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = app.get(&format!("/spells/{spell}"), &staff).await;
    // Admitted 09:00 local on 1 December (GMT): 09:00Z; in WARD8 B002 again after the A13.
    assert_eq!(v["status"], "admitted", "{v}");
    assert_eq!(v["admitted_at"], "2025-12-01T09:00:00Z");
    assert_eq!(v["admission_method"], "21");
    let stays: Vec<(&str, &str)> = v["stays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["ward_code"].as_str().unwrap(),
                s["bed_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(stays, [("WARD7", "B001"), ("WARD8", "B002")]);
    let kinds: Vec<(&str, bool)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["cancelled_at"].is_null()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("admission", true),
            ("transfer", true),
            ("discharge", false),
            ("leave-start", true)
        ]
    );
    assert!(
        v["on_leave_since"].is_string(),
        "A21: on leave, the spell and bed kept"
    );
    let (_, b) = app.get(&format!("/wards/{ward7}/board"), &staff).await;
    assert_eq!(b["beds"][0]["state"], "available", "the transfer freed it");
    // The discharge's activity record was withdrawn with its cancellation.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.activity WHERE withdrawn_at IS NULL"
        ))
        .await,
        0
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.activity"))
            .await,
        1
    );

    let (s, x) = app.get("/adt/exceptions", &staff).await;
    assert_eq!(s, 200, "{x}");
    let codes: Vec<(&str, &str)> = x["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["control_id"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes, [("M5", "validation"), ("M6", "not-found")]);
    let id = x["exceptions"][0]["id"].as_str().unwrap();
    let (s, r) = app
        .post(
            &format!("/adt/exceptions/{id}/resolve"),
            &staff,
            serde_json::json!({}),
        )
        .await;
    assert_eq!((s, r["resolved_at"].is_null()), (200, false), "{r}");
    let (_, x) = app.get("/adt/exceptions", &staff).await;
    assert_eq!(x["exceptions"].as_array().unwrap().len(), 1);
    app.stop().await;
}
