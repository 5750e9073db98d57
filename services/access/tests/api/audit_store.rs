use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_testkit as kit;

/// Requests to the access service leave audit records, which flow through the broker back
/// into its audit store: a real chain to verify, search and tamper with.
async fn with_records(app: &TestApp, n: i64) -> String {
    let p = app.known_patient(0).await;
    let dr = app.clinician(0, "dr-a");
    let other = app.clinician(0, "dr-b");
    for i in 0..n {
        let who = if i % 3 == 0 { &other } else { &dr };
        let (s, _) = app
            .send(
                Method::GET,
                &format!("/relationships?patient_id={p}"),
                who,
                None,
            )
            .await;
        assert_eq!(s, 200);
    }
    let schema = app.schema(0);
    let all_in = kit::wait_until(Duration::from_secs(20), || async {
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.audit_store WHERE patient_id = '{p}'"
        ))
        .await
            >= n
    })
    .await;
    assert!(all_in, "the audit records never reached the store");
    p
}

async fn verify(app: &TestApp) -> Value {
    let (s, v) = app
        .send(Method::GET, "/audit/verify", &app.privacy_officer(0), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn verify_names_exactly_the_record_edited_deleted_or_reordered_in_the_database() {
    let app = TestApp::spawn(1).await;
    with_records(&app, 10).await;
    let v = verify(&app).await;
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["records"].as_i64().unwrap() >= 10);
    let t = format!("{}.audit_store", app.schema(0));
    // The store refuses changes through SQL while its trigger stands...
    let refused = app
        .db
        .execute_unprepared(&format!("UPDATE {t} SET reason = 'x' WHERE seq = 1"))
        .await;
    assert!(refused.is_err(), "the audit store accepted an update");
    use sea_orm::ConnectionTrait as _;
    // ...so a tamperer with superuser rights drops it first.
    app.exec(&format!(
        "ALTER TABLE {t} DISABLE TRIGGER audit_store_append_only"
    ))
    .await;

    // Edit one record's content.
    app.exec(&format!(
        "UPDATE {t} SET payload = payload || '\\x00'::bytea WHERE seq = 5"
    ))
    .await;
    assert_eq!(
        verify(&app).await["findings"],
        json!([{ "finding": "edited", "seq": 5 }])
    );
    app.exec(&format!(
        "UPDATE {t} SET payload = substring(payload from 1 for length(payload) - 1) WHERE seq = 5"
    ))
    .await;
    assert_eq!(verify(&app).await["intact"], true);

    // Delete one.
    app.exec(&format!(
        "CREATE TABLE {t}_saved AS SELECT * FROM {t} WHERE seq = 7"
    ))
    .await;
    app.exec(&format!("DELETE FROM {t} WHERE seq = 7")).await;
    assert_eq!(
        verify(&app).await["findings"],
        json!([{ "finding": "missing", "from": 7, "to": 7 }])
    );
    app.exec(&format!("INSERT INTO {t} SELECT * FROM {t}_saved"))
        .await;
    assert_eq!(verify(&app).await["intact"], true);

    // Reorder two: swap the records stored at 3 and 4.
    app.exec(&format!("UPDATE {t} SET seq = -3 WHERE seq = 3"))
        .await;
    app.exec(&format!("UPDATE {t} SET seq = 3 WHERE seq = 4"))
        .await;
    app.exec(&format!("UPDATE {t} SET seq = 4 WHERE seq = -3"))
        .await;
    assert_eq!(
        verify(&app).await["findings"],
        json!([{ "finding": "out-of-place", "seq": 3 }, { "finding": "out-of-place", "seq": 4 }])
    );
    app.stop().await;
}

#[tokio::test]
async fn the_audit_store_answers_who_looked_search_and_fhir_auditevent() {
    let app = TestApp::spawn(1).await;
    let p = with_records(&app, 6).await;
    let po = app.privacy_officer(0);
    let (s, r) = app
        .send(
            Method::GET,
            &format!("/patients/{p}/access-report"),
            &po,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let viewers = r["viewers"].as_array().unwrap();
    let count = |u: &str| {
        viewers
            .iter()
            .find(|v| v["user_id"] == u)
            .map(|v| v["requests"].as_i64().unwrap())
    };
    assert_eq!((count("dr-a"), count("dr-b")), (Some(4), Some(2)), "{r}");
    assert_eq!(viewers[0]["actions"], json!(["relationship.list"]));
    let (_, r) = app
        .send(
            Method::GET,
            &format!("/audit?patient_id={p}&user_id=dr-b"),
            &po,
            None,
        )
        .await;
    assert_eq!(r["count"], 2);
    let (_, r) = app
        .send(
            Method::GET,
            &format!("/audit?patient_id={p}&outcome=deny"),
            &po,
            None,
        )
        .await;
    assert_eq!(r["count"], 0);
    let (s, r) = app
        .send(Method::GET, "/audit?from=yesterday", &po, None)
        .await;
    assert_eq!((s, r["errors"][0]["field"].as_str()), (422, Some("from")));
    let (s, b) = app
        .send(
            Method::GET,
            &format!("/fhir/AuditEvent?patient=Patient/{p}&agent=dr-a&date=ge2020-01-01"),
            &po,
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["total"], 4);
    let e = &b["entry"][0]["resource"];
    assert_eq!(e["resourceType"], "AuditEvent");
    assert_eq!(e["outcome"], "0");
    assert_eq!(e["entity"][0]["what"]["reference"], format!("Patient/{p}"));
    assert_eq!(e["agent"][0]["who"]["identifier"]["value"], "dr-a");
    let (s, o) = app
        .send(Method::GET, "/fhir/AuditEvent?colour=blue", &po, None)
        .await;
    assert_eq!(
        (s, o["resourceType"].as_str()),
        (400, Some("OperationOutcome"))
    );
    // Not for clinicians.
    let (s, _) = app
        .send(
            Method::GET,
            &format!("/patients/{p}/access-report"),
            &app.clinician(0, "dr-a"),
            None,
        )
        .await;
    assert_eq!(s, 403);
    app.stop().await;
}

/// The newest chain head published on the trust's heads topic.
async fn published_head(app: &TestApp) -> Option<i64> {
    use prost::Message as _;
    let topic = format!("tessera.{}.audit.heads", app.tenant(0).to_lowercase());
    kit::read_topic(&app.kafka, &topic, 1, Duration::from_secs(3))
        .await
        .iter()
        .filter_map(|m| tessera_proto::audit::v1::ChainHead::decode(m.payload.as_slice()).ok())
        .map(|h| h.seq)
        .max()
}

#[tokio::test]
async fn records_removed_from_the_end_of_the_chain_are_found_against_the_published_head() {
    let app = TestApp::spawn(1).await;
    with_records(&app, 8).await;
    let t = format!("{}.audit_store", app.schema(0));
    // Until the head published outside the database is the stored head (no requests are made
    // meanwhile, so nothing more is appended).
    let stored = || async {
        app.scalar(&format!("SELECT coalesce(max(seq), 0) AS n FROM {t}"))
            .await
    };
    let caught_up = kit::wait_until(Duration::from_secs(20), || async {
        published_head(&app).await == Some(stored().await)
    })
    .await;
    assert!(caught_up, "the chain head was never published");
    let last = stored().await;
    app.exec(&format!(
        "ALTER TABLE {t} DISABLE TRIGGER audit_store_append_only"
    ))
    .await;
    app.exec(&format!("DELETE FROM {t} WHERE seq >= {}", last - 1))
        .await;
    let v = verify(&app).await;
    assert_eq!(
        v["findings"],
        json!([{ "finding": "missing", "from": last - 1, "to": last }]),
        "{v}"
    );
    assert_eq!(v["intact"], false);
    app.stop().await;
}

/// ADR 23: AuditEvent search pages with absolute links and the true total (never silently cut
/// at 100), finds one record by `_id`, and sorts oldest first with `_sort=date`.
#[tokio::test]
async fn fhir_auditevent_search_pages_with_the_true_total_and_honours_id_and_sort() {
    let app = TestApp::spawn(1).await;
    let p = with_records(&app, 6).await;
    let po = app.privacy_officer(0);
    let base = format!("{}/fhir", app.base);
    // dr-a's four records (the privacy officer's own searches are audited too, as agent po-1).
    let q = format!("/fhir/AuditEvent?patient=Patient/{p}&agent=dr-a&_count=3");
    let (s, first) = app.send(Method::GET, &q, &po, None).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["total"], 4, "every match counted, not the page");
    assert_eq!(first["entry"].as_array().map(Vec::len), Some(3));
    let id = first["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first["entry"][0]["fullUrl"],
        format!("{base}/AuditEvent/{id}")
    );
    let next = first["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .unwrap()
        .to_string();
    assert!(next.starts_with(&base), "{next}");
    let (_, second) = app
        .send(
            Method::GET,
            next.strip_prefix(&app.base).unwrap(),
            &po,
            None,
        )
        .await;
    assert_eq!(second["entry"].as_array().map(Vec::len), Some(1));
    // Newest first by default; `_sort=date` turns it round.
    let newest = first["entry"][0]["resource"]["recorded"].clone();
    let (_, oldest) = app
        .send(Method::GET, &format!("{q}&_sort=date"), &po, None)
        .await;
    let recorded = |b: &serde_json::Value, i: usize| {
        b["entry"][i]["resource"]["recorded"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(recorded(&oldest, 0) <= recorded(&oldest, 1));
    assert!(recorded(&first, 0) >= recorded(&first, 1));
    assert_ne!(oldest["entry"][0]["resource"]["recorded"], newest);
    // `_id`: that record alone.
    let (_, one) = app
        .send(
            Method::GET,
            &format!("/fhir/AuditEvent?_id={id}"),
            &po,
            None,
        )
        .await;
    assert_eq!(one["total"], 1);
    assert_eq!(one["entry"][0]["resource"]["id"], id.as_str());
    // A sort it cannot do is refused, not ignored.
    let (s, oo) = app
        .send(Method::GET, "/fhir/AuditEvent?_sort=agent", &po, None)
        .await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (400, Some("OperationOutcome"))
    );
    app.stop().await;
}
