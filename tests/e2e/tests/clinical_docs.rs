//! Issue 17's end to end, across the MPI, access, scheduling and clinical documentation
//! through the broker: an attended outpatient appointment yields a draft clinic letter for
//! the clinic's consultant, addressed to the GP practice the MPI holds; the consultant
//! completes and signs it; it renders to a PDF and `LetterReady` is published. The patient
//! asks, through the access service, for the letter to be sealed to the consultant: a doctor
//! of the clinic's team (a relationship from the booking) no longer sees it, an emergency
//! clinician's break-glass opens it (and the privacy officer has the alert), and a
//! sealed-and-locked note never opens to them. Nothing of it reaches RBT.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_e2e::Platform;
use tessera_testkit as kit;

const VIEW: &str = "B0820";
const APPOINTMENTS: &str = "B1120";
const DOCS: &str = "B0380";
const OVERRIDE: &str = "B0083";

/// A change under `If-Match`: status, new version, body.
async fn change(
    p: &Platform,
    method: Method,
    path: &str,
    token: &str,
    v: i64,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = p
        .client
        .request(method, format!("{}{path}", p.docs))
        .bearer_auth(token)
        .header("If-Match", format!("W/\"{v}\""));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or_default())
}

async fn yesterdays_slot(p: &Platform, clerk: &str) -> String {
    let on = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let c = p
        .scheduling(
            Method::POST,
            "/clinics",
            clerk,
            Some(json!({ "code": "GS-LETTERS", "name": "General surgery OPD",
            "specialty": "100", "treatment_function": "100", "site": "Main", "services": ["new"],
            "clinician": "mr-cutter", "team": "GSOPD" })),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let clinic = c.body["id"].as_str().unwrap().to_string();
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [chrono::Datelike::weekday(&on).num_days_from_monday() as usize];
    let t = p
        .scheduling(
            Method::POST,
            &format!("/clinics/{clinic}/templates"),
            clerk,
            Some(json!({
            "pattern": { "every": "week", "weekday": weekday }, "starts": "09:00", "ends": "09:20",
            "slot_minutes": 10, "slot_type": "new", "valid_from": on.to_string() })),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let g = p
        .scheduling(
            Method::POST,
            &format!("/templates/{}/sessions", t.body["id"].as_str().unwrap()),
            clerk,
            Some(json!({ "from": on.to_string(), "weeks": 1 })),
        )
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let row = p
        .scheduling_db
        .query_one(Statement::from_string(DbBackend::Postgres, format!(
            "SELECT id::text AS id FROM {}.slot WHERE clinic_id = '{clinic}' ORDER BY starts_at LIMIT 1", p.schema(0))))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<String>("", "id").unwrap()
}

#[tokio::test]
async fn an_outcome_yields_a_signed_letter_and_seals_hold_across_the_services() {
    let p = Platform::start_with_docs(2).await;
    let (rxr, rbt) = (0, 1);
    let clerk = p.token(rxr, "booker", "R8000", &[APPOINTMENTS], &[]);
    let consultant = p.token(rxr, "mr-cutter", "R8000", &[VIEW, DOCS], &[]);
    let clinic_doctor = p.token(rxr, "dr-opd", "R8000", &[VIEW, DOCS], &["GSOPD"]);
    let emergency = p.token(rxr, "dr-ed", "R8000", &[VIEW, DOCS, OVERRIDE], &[]);
    let officer = p.token(rxr, "privacy", "R0001", &[VIEW, "B0825"], &[]);
    let patient = p.register_known(rxr, "Lettered").await;

    // Booked yesterday, attended: the outcome drafts the letter.
    let slot = yesterdays_slot(&p, &clerk).await;
    let a = p
        .scheduling(
            Method::POST,
            "/appointments",
            &clerk,
            Some(json!({ "slot_id": slot, "patient_id": patient })),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let appointment = a.body["id"].as_str().unwrap().to_string();
    let o = p
        .scheduling(
            Method::POST,
            &format!("/appointments/{appointment}/outcome"),
            &clerk,
            Some(json!({ "outcome": "attended" })),
        )
        .await;
    assert_eq!(o.status, 200, "{}", o.body);
    let list = format!("/documents?patient_id={patient}&type=371531000");
    let first = || async {
        p.docs(Method::GET, &list, &consultant, None).await.body["documents"][0].clone()
    };
    let found = kit::wait_until(Duration::from_secs(60), || async {
        !first().await.is_null()
    })
    .await;
    assert!(found, "no letter drafted from the outcome");
    let letter = first().await;
    let id = letter["id"].as_str().unwrap().to_string();
    let doc = p
        .docs(Method::GET, &format!("/documents/{id}"), &consultant, None)
        .await;
    assert_eq!(
        (
            doc.body["author_user"].as_str(),
            doc.body["letter_to"].as_str()
        ),
        (Some("mr-cutter"), Some("A99999"))
    );
    assert_eq!(doc.body["context_id"], appointment);

    // The consultant completes and signs it: the PDF renders, integrators are told.
    let text = doc.body["text"]
        .as_str()
        .unwrap()
        .replace("[Findings and plan]", "Inguinal hernia; listed for repair.");
    let (s, _) = change(
        &p,
        Method::PUT,
        &format!("/documents/{id}"),
        &consultant,
        1,
        Some(json!({ "text": text })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, signed) = change(
        &p,
        Method::POST,
        &format!("/documents/{id}/sign"),
        &consultant,
        2,
        None,
    )
    .await;
    assert_eq!(
        (s, signed["status"].as_str()),
        (200, Some("final")),
        "{signed}"
    );
    let pdf = p
        .client
        .get(format!("{}/documents/{id}/versions/3/pdf", p.docs))
        .bearer_auth(&consultant)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let events = kit::read_events(
        &p.kafka,
        &p.topic(rxr, "clinical-docs", "document"),
        4,
        Duration::from_secs(30),
    )
    .await;
    assert!(events
        .iter()
        .any(|e| e.headers["ce_type"].ends_with("LetterReady.v1")));

    // Before any seal, the clinic's doctor (the booking's team relationship) reads it.
    assert_eq!(
        p.docs(
            Method::GET,
            &format!("/documents/{id}"),
            &clinic_doctor,
            None
        )
        .await
        .status,
        200
    );
    // A second, extra-sensitive note the consultant writes.
    let n = p.docs(Method::POST, "/documents", &consultant, Some(json!({ "patient_id": patient,
        "type": { "code": "371532007", "display": "Progress report" }, "title": "Confidential", "text": "Disclosed at clinic." }))).await;
    assert_eq!(n.status, 201, "{}", n.body);
    let note = n.body["id"].as_str().unwrap().to_string();

    // The patient's wishes, through the access service: the letter sealed, the note locked.
    for (item, level) in [(&id, "sealed"), (&note, "locked")] {
        let s = p
            .access(
                Method::PUT,
                &format!("/seals/{patient}/document:{item}"),
                &officer,
                Some(json!({ "level": level, "users": ["mr-cutter"] })),
            )
            .await;
        assert_eq!(s.status, 200, "{}", s.body);
    }
    // Both seals applied (one after the other, in the patient's order): the list is empty.
    let listed = format!("/documents?patient_id={patient}");
    let hidden = kit::wait_until(Duration::from_secs(30), || async {
        p.docs(Method::GET, &listed, &clinic_doctor, None)
            .await
            .body["total"]
            == 0
    })
    .await;
    assert!(hidden, "the seals never reached clinical documentation");
    let a = p
        .docs(
            Method::GET,
            &format!("/documents/{id}"),
            &clinic_doctor,
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.sealed"))
    );
    let a = p
        .docs(
            Method::GET,
            &format!("/documents?patient_id={patient}"),
            &clinic_doctor,
            None,
        )
        .await;
    assert_eq!(a.body["total"], 0, "{}", a.body);
    assert_eq!(
        p.docs(Method::GET, &format!("/documents/{id}"), &consultant, None)
            .await
            .status,
        200
    );

    // Break-glass: the alert is raised; the sealed letter opens, the locked note never does.
    let g = p
        .access(
            Method::POST,
            "/break-glass",
            &emergency,
            Some(json!({ "patient_id": patient, "reason_code": "04",
            "justification": "unconscious in ED", "duration_seconds": 600 })),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let opened = kit::wait_until(Duration::from_secs(30), || async {
        p.docs(Method::GET, &format!("/documents/{id}"), &emergency, None)
            .await
            .status
            == 200
    })
    .await;
    assert!(opened, "break-glass never opened the sealed letter");
    let a = p
        .docs(Method::GET, &format!("/documents/{note}"), &emergency, None)
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.locked"))
    );
    let alerts = p.access(Method::GET, "/alerts", &officer, None).await;
    assert!(
        alerts.body.to_string().contains(&patient),
        "{}",
        alerts.body
    );
    let audited = Platform::scalar(&p.docs_db, &format!(
        "SELECT count(*) AS n FROM {}.audit_log WHERE user_id = 'dr-ed' AND reason = 'ok-break-glass' AND patient_id = '{patient}'",
        p.schema(rxr))).await;
    assert!(audited >= 1);

    // Nothing reaches RBT: its clinicians find nothing, its schema and its topic hold nothing.
    let rbt_doctor = p.token(rbt, "dr-rbt", "R8000", &[VIEW, DOCS, OVERRIDE], &["GSOPD"]);
    assert_eq!(
        p.docs(Method::GET, &format!("/documents/{id}"), &rbt_doctor, None)
            .await
            .status,
        404
    );
    let rows = Platform::scalar(
        &p.docs_db,
        &format!("SELECT count(*) AS n FROM {}.document", p.schema(rbt)),
    )
    .await;
    assert_eq!(rows, 0);
    let rbt_events = kit::read_events(
        &p.kafka,
        &p.topic(rbt, "clinical-docs", "document"),
        1,
        Duration::from_secs(3),
    )
    .await;
    assert!(rbt_events.is_empty());
    p.stop().await;
}
