//! The admitted waiting list: a decision to admit, offers, a suspension, the census on a
//! past day, the admission that closes the entry (and its cancellation reopening it), and
//! removal.
use crate::helpers::*;
use chrono::{Duration, Utc};
use prost::Message as _;
use serde_json::json;
use tessera_proto::pas::v1 as pb;
use tessera_testkit as kit;

#[tokio::test]
async fn a_decision_to_admit_waits_is_offered_a_date_and_is_closed_by_its_admission() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds) = app.ward(0, "ELECTIVE", 2).await;
    let p = app.patient(0).await;
    let q = app.patient(0).await;
    let today = Utc::now().date_naive();
    let add = |patient: &str, priority: &str, days_ago: i64, ppid: bool| {
        let mut b = json!({ "patient_id": patient, "priority": priority, "treatment_function": "110",
                            "consultant": "C100", "decided_on": (today - Duration::days(days_ago)).to_string(),
                            "procedure": "Knee replacement" });
        if ppid {
            b["ppid"] = json!("RXR0000000000000009");
            b["ppid_issuer"] = json!("RXR");
        }
        b
    };
    let (s, e) = app
        .post("/waiting-list", &staff, add(&p, "routine", 30, true))
        .await;
    assert_eq!(s, 201, "{e}");
    let entry = e["id"].as_str().unwrap().to_string();
    assert_eq!(
        (e["status"].as_str(), e["days_waiting"].as_i64()),
        (Some("waiting"), Some(30))
    );
    let (s, other) = app
        .post("/waiting-list", &staff, add(&q, "urgent", 10, false))
        .await;
    assert_eq!(s, 201, "{other}");
    let (s, e) = app
        .post("/waiting-list", &staff, json!({ "patient_id": p, "priority": "soon", "treatment_function": "11",
                                                "consultant": "", "decided_on": (today + Duration::days(1)).to_string() }))
        .await;
    assert_eq!(
        (s, e["errors"].as_array().map(Vec::len)),
        (422, Some(4)),
        "{e}"
    );

    // Urgent first, then routine.
    let (_, l) = app
        .get("/waiting-list?treatment_function=110", &staff)
        .await;
    let ids: Vec<&str> = l["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other["id"].as_str().unwrap(), entry.as_str()]);

    // A declined offer is kept and changes nothing; an accepted one sets the date.
    let tci = today + Duration::days(7);
    let (s, e) = app
        .post(
            &format!("/waiting-list/{entry}/offers"),
            &staff,
            json!({ "tci_date": tci.to_string(), "accepted": false }),
        )
        .await;
    assert_eq!((s, e["tci_date"].is_null()), (200, true), "{e}");
    let (s, e) = app
        .post(
            &format!("/waiting-list/{entry}/offers"),
            &staff,
            json!({ "tci_date": tci.to_string(), "accepted": true }),
        )
        .await;
    assert_eq!(
        (s, e["tci_date"].as_str()),
        (200, Some(tci.to_string().as_str())),
        "{e}"
    );
    let offers = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.tci_offer WHERE entry_id = '{entry}'",
            app.schema(0)
        ))
        .await;
    assert_eq!(offers, 2);
    // Suspended, then lifted.
    let until = today + Duration::days(3);
    let (s, e) = app
        .send(
            reqwest::Method::PUT,
            &format!("/waiting-list/{entry}/suspension"),
            &staff,
            Some(json!({ "until": until.to_string(), "reason": "holiday" })),
        )
        .await;
    assert_eq!(
        (s, e["suspended_until"].as_str()),
        (200, Some(until.to_string().as_str())),
        "{e}"
    );
    let (_, c) = app.get("/waiting-list/census", &staff).await;
    let row = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["priority"] == "routine")
        .unwrap()
        .clone();
    assert_eq!(
        (
            row["waiting"].as_i64(),
            row["suspended"].as_i64(),
            row["with_tci"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{c}"
    );
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            &format!("/waiting-list/{entry}/suspension"),
            &staff,
            Some(json!({ "until": null })),
        )
        .await;
    assert_eq!(s, 200);

    // An emergency admission cannot close it; an elective one does, taking its pathway.
    let mut emergency = admission(&p, &beds[0]);
    emergency["waiting_list_entry_id"] = json!(entry);
    let (s, e) = app.post("/admissions", &staff, emergency).await;
    assert_eq!(
        (s, e["errors"][0]["field"].as_str()),
        (422, Some("admission_method")),
        "{e}"
    );
    let (s, v) = app
        .post(
            "/admissions",
            &staff,
            json!({ "patient_id": p, "bed_id": beds[0], "admission_method": "12",
              "admission_source": "19", "consultant": "C100", "treatment_function": "110",
              "waiting_list_entry_id": entry }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["ppid"].as_str(), v["admission_purpose"].as_str()),
        (Some("RXR0000000000000009"), Some("treatment"))
    );
    let spell = v["id"].as_str().unwrap().to_string();
    let (_, e) = app.get(&format!("/waiting-list/{entry}"), &staff).await;
    assert_eq!(
        (e["status"].as_str(), e["spell_id"].as_str()),
        (Some("admitted"), Some(spell.as_str()))
    );
    let (s, e) = app
        .post(
            &format!("/waiting-list/{entry}/offers"),
            &staff,
            json!({ "tci_date": tci.to_string(), "accepted": true }),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("waiting-list.closed")),
        "{e}"
    );
    // Yesterday's census still counts it; today's does not.
    let (_, c) = app
        .get(
            &format!("/waiting-list/census?on={}", today - Duration::days(1)),
            &staff,
        )
        .await;
    assert_eq!(
        c["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["waiting"].as_i64().unwrap())
            .sum::<i64>(),
        2,
        "{c}"
    );
    let (_, c) = app.get("/waiting-list/census", &staff).await;
    assert_eq!(
        c["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["waiting"].as_i64().unwrap())
            .sum::<i64>(),
        1,
        "{c}"
    );

    // The admission cancelled: the entry waits again, as it was.
    let (s, _) = app
        .post(
            &format!("/spells/{spell}/cancel"),
            &staff,
            json!({ "cancels": "admission", "reason": "wrong patient" }),
        )
        .await;
    assert_eq!(s, 200);
    let (_, e) = app.get(&format!("/waiting-list/{entry}"), &staff).await;
    assert_eq!(
        (e["status"].as_str(), e["spell_id"].is_null()),
        (Some("waiting"), true),
        "{e}"
    );
    // Removed with a reason.
    let (s, e) = app
        .post(
            &format!("/waiting-list/{}/remove", other["id"].as_str().unwrap()),
            &staff,
            json!({ "reason": "bored" }),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = app
        .post(
            &format!("/waiting-list/{}/remove", other["id"].as_str().unwrap()),
            &staff,
            json!({ "reason": "treated-elsewhere" }),
        )
        .await;
    assert_eq!((s, e["status"].as_str()), (200, Some("removed")), "{e}");

    // The decision to admit reached the broker for the RTT clock (only the one on a pathway).
    let topic = format!("tessera.{}.pas.encounter", app.tenants[0].to_lowercase());
    let events = kit::read_events(&app.kafka, &topic, 1, std::time::Duration::from_secs(30)).await;
    let decisions: Vec<_> = events
        .iter()
        .filter(|e| e.headers["ce_type"] == "uk.nhs.tessera.pas.DecisionToAdmit.v1")
        .map(|e| pb::DecisionToAdmit::decode(e.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        (
            decisions[0].waiting_list_entry_id.as_str(),
            decisions[0].ppid.as_str()
        ),
        (entry.as_str(), "RXR0000000000000009")
    );
    app.stop().await;
}
