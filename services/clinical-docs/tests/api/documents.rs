//! A document's life: a draft edited under `If-Match`, signed by its author, amended with a
//! reason, marked entered in error; countersignature; bad input refused and nothing changed.
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_letter_is_drafted_edited_signed_amended_and_marked_entered_in_error() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-jones");
    let id = app.draft(&p, &dr, "Dear Dr Smith,\nSeen today.\n").await;
    let doc = format!("/documents/{id}");

    // Read back with its ETag.
    let a = app.get(&doc, &dr).await;
    assert_eq!((a.status, a.version), (200, Some(1)));
    assert_eq!(a.body["status"], "draft");
    assert_eq!(a.body["text"], "Dear Dr Smith,\nSeen today.\n");
    assert_eq!(a.body["author_user"], "dr-jones");

    // An update without If-Match is refused, and changes nothing.
    let a = app
        .send(
            Method::PUT,
            &doc,
            &dr,
            None,
            Some(json!({ "text": "blind" })),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (428, Some("document.if-match-required"))
    );

    let a = app
        .send(
            Method::PUT,
            &doc,
            &dr,
            Some(1),
            Some(json!({ "text": "Dear Dr Smith,\nSeen today; well.\n" })),
        )
        .await;
    assert_eq!((a.status, a.version), (200, Some(2)), "{}", a.body);

    // Someone else cannot sign it off; the author can.
    let colleague = app.clinician(0, "dr-other");
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/sign"),
            &colleague,
            Some(2),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("document.not-author"))
    );
    let a = app
        .send(Method::POST, &format!("{doc}/sign"), &dr, Some(2), None)
        .await;
    assert_eq!((a.status, a.version), (200, Some(3)), "{}", a.body);
    assert_eq!(a.body["status"], "final");
    assert_eq!(a.body["signed_by"], "dr-jones");

    // Signed: locked against edits; an amendment needs a reason.
    let a = app
        .send(
            Method::PUT,
            &doc,
            &dr,
            Some(3),
            Some(json!({ "text": "changed" })),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (409, Some("document.signed"))
    );
    let a = app
        .send(Method::PUT, &doc, &dr, Some(3), Some(json!({ "text": "Dear Dr Smith,\nSeen today; well. Bloods normal.\n", "reason": "blood results added" })))
        .await;
    assert_eq!((a.status, a.version), (200, Some(4)), "{}", a.body);
    assert_eq!(a.body["status"], "amended");

    // Entered in error: flagged, the content kept for those allowed to see it.
    let a = app
        .post(
            &format!("{doc}/entered-in-error"),
            &dr,
            json!({ "reason": "wrong patient" }),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (428, Some("document.if-match-required"))
    );
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/entered-in-error"),
            &dr,
            Some(4),
            Some(json!({ "reason": "wrong patient" })),
        )
        .await;
    assert_eq!((a.status, a.version), (200, Some(5)), "{}", a.body);
    assert_eq!(a.body["status"], "entered-in-error");
    assert_eq!(
        a.body["text"],
        "Dear Dr Smith,\nSeen today; well. Bloods normal.\n"
    );

    // Every version, in order, with who and why.
    let a = app.get(&format!("{doc}/versions"), &dr).await;
    let v = a.body["versions"].as_array().unwrap();
    let actions: Vec<_> = v.iter().map(|v| v["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["created", "edited", "signed", "amended", "entered-in-error"]
    );
    assert_eq!(v[3]["reason"], "blood results added");
    assert_eq!(v[4]["reason"], "wrong patient");
    assert_eq!(v[0]["text"], "Dear Dr Smith,\nSeen today.\n");

    // Events: created, then a version added for each change, signed once, entered in error once.
    let events = tessera_testkit::read_events(
        &app.kafka,
        &app.topic(0, "clinical-docs", "document"),
        7,
        std::time::Duration::from_secs(30),
    )
    .await;
    let types: Vec<String> = events
        .iter()
        .map(|e| {
            e.headers["ce_type"]
                .split('.')
                .rev()
                .nth(1)
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "DocumentCreated").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "VersionAdded").count(),
        4,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "DocumentSigned").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "DocumentEnteredInError")
            .count(),
        1,
        "{types:?}"
    );
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_type_that_asks_for_a_countersignature_is_final_only_when_countersigned() {
    let app = TestApp::spawn(1).await;
    let admin = app.clinician(0, "records-lead");
    let a = app
        .send(
            Method::PUT,
            "/document-types/371531000",
            &admin,
            None,
            Some(json!({ "display": "Clinic letter", "countersign": true })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = app.patient(0).await;
    let junior = app.clinician(0, "dr-f1");
    let mut body = letter(&p, "Seen in clinic.");
    body["countersigner"] = json!("dr-consultant");
    let a = app.post("/documents", &junior, body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let doc = format!("/documents/{}", a.body["id"].as_str().unwrap());

    // Countersigning before the author signs is refused.
    let consultant = app.clinician(0, "dr-consultant");
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/countersign"),
            &consultant,
            Some(1),
            None,
        )
        .await;
    assert_eq!(a.body["code"], "document.not-awaiting-countersignature");
    let a = app
        .send(Method::POST, &format!("{doc}/sign"), &junior, Some(1), None)
        .await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("draft")));
    // Awaiting the countersignature: not editable, and only the named consultant signs.
    let a = app
        .send(
            Method::PUT,
            &doc,
            &junior,
            Some(2),
            Some(json!({ "text": "late edit" })),
        )
        .await;
    assert_eq!(a.body["code"], "document.awaiting-countersignature");
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/countersign"),
            &junior,
            Some(2),
            None,
        )
        .await;
    assert_eq!(a.body["code"], "document.countersign-self");
    let registrar = app.clinician(0, "dr-registrar");
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/countersign"),
            &registrar,
            Some(2),
            None,
        )
        .await;
    assert_eq!(a.body["code"], "document.not-countersigner");
    let a = app
        .send(
            Method::POST,
            &format!("{doc}/countersign"),
            &consultant,
            Some(2),
            None,
        )
        .await;
    assert_eq!((a.status, a.version), (200, Some(3)), "{}", a.body);
    assert_eq!(
        (
            a.body["status"].as_str(),
            a.body["countersigned_by"].as_str()
        ),
        (Some("final"), Some("dr-consultant"))
    );
    app.shutdown.trigger();
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-jones");
    let bad = [
        json!({ "patient_id": p, "type": { "code": "371531001", "display": "x" }, "title": "t", "text": "x" }),
        json!({ "patient_id": "nobody", "type": { "code": "371531000", "display": "x" }, "title": "t", "text": "x" }),
        json!({ "patient_id": p, "type": { "code": "371531000", "display": "x" }, "title": "", "text": "   " }),
        json!({ "patient_id": p, "type": { "code": "371531000", "display": "x" }, "title": "t", "text": "x", "content_type": "text/html" }),
        json!({ "patient_id": p, "type": { "code": "22298006", "display": "Myocardial infarction" }, "title": "t", "text": "x" }),
    ];
    for b in bad {
        let a = app.post("/documents", &dr, b.clone()).await;
        assert!(
            a.status == 422 || a.status == 400,
            "{b}: {} {}",
            a.status,
            a.body
        );
    }
    // An unknown patient id minted long ago: the trust has no such patient.
    let a = app
        .post(
            "/documents",
            &dr,
            letter("00000000-0000-4000-8000-000000000000", "x"),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.document",
            app.schema(0)
        ))
        .await;
    assert_eq!(n, 0);
    let a = app.get("/documents/not-a-uuid", &dr).await;
    assert_eq!(a.status, 422);
    let a = app
        .get(&format!("/documents/{}", uuid::Uuid::new_v4()), &dr)
        .await;
    assert_eq!(a.status, 404);
    app.shutdown.trigger();
}

#[tokio::test]
async fn attachments_are_checked_kept_by_hash_and_read_back_byte_for_byte() {
    use sha2::Digest as _;
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-jones");
    let id = app
        .draft(&p, &dr, "Referral letter received; scan attached.")
        .await;
    let upload = |bytes: Vec<u8>, content_type: &'static str, v: Option<i64>| {
        let mut r = app
            .client
            .post(format!(
                "{}/documents/{id}/attachments?title=GP%20referral%20scan",
                app.base
            ))
            .bearer_auth(&dr)
            .header("Content-Type", content_type)
            .body(bytes);
        if let Some(v) = v {
            r = r.header("If-Match", format!("W/\"{v}\""));
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..50_000u32).map(|i| (i % 251) as u8));
    // Lies about its type, a type not kept, no If-Match, too large: refused, nothing kept.
    let (s, v) = upload(b"MZ\x90\x00 not a pdf".to_vec(), "application/pdf", Some(1)).await;
    assert_eq!((s, v["code"].as_str()), (415, Some("attachment.type")));
    let (s, _) = upload(b"#!/bin/sh".to_vec(), "application/x-sh", Some(1)).await;
    assert_eq!(s, 415);
    let (s, v) = upload(pdf.clone(), "application/pdf", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (428, Some("document.if-match-required"))
    );
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    let (s, v) = upload(big, "application/pdf", Some(1)).await;
    assert_eq!((s, v["code"].as_str()), (413, Some("attachment.too-large")));
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.attachment",
            app.schema(0)
        ))
        .await,
        0
    );

    let (s, v) = upload(pdf.clone(), "application/pdf", Some(1)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    assert_eq!(
        (v["size"].as_i64(), v["version"].as_i64()),
        (Some(pdf.len() as i64), Some(2))
    );
    let (s, bytes) = app
        .bytes(
            &format!("/documents/{id}/attachments/{}", v["id"].as_str().unwrap()),
            &dr,
        )
        .await;
    assert_eq!((s, bytes == pdf), (200, true));
    let a = app.get(&format!("/documents/{id}"), &dr).await;
    assert_eq!(
        (a.version, a.body["text"].as_str()),
        (Some(2), Some("Referral letter received; scan attached."))
    );
    // Signed: nothing more is attached.
    let a = app
        .send(
            Method::POST,
            &format!("/documents/{id}/sign"),
            &dr,
            Some(2),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let (s, v) = upload(pdf.clone(), "application/pdf", Some(3)).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("document.signed")));
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_retried_create_with_its_idempotency_key_is_the_same_document() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-jones");
    let send = |token: String| {
        let r = app
            .client
            .post(format!("{}/documents", app.base))
            .bearer_auth(token)
            .header("Idempotency-Key", "note-1")
            .json(&letter(&p, "Seen."));
        async move {
            let r = r.send().await.unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                r.status().as_u16(),
                replayed,
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (s1, r1, first) = send(dr.clone()).await;
    let (s2, r2, again) = send(dr.clone()).await;
    assert_eq!((s1, r1, s2, r2), (201, false, 201, true));
    assert_eq!(first["id"], again["id"]);
    // Another clinician's key is theirs alone.
    let (s3, _, other) = send(app.clinician(0, "dr-other")).await;
    assert_eq!(s3, 201);
    assert_ne!(first["id"], other["id"]);
    let n = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {}.document",
            app.schema(0)
        ))
        .await;
    assert_eq!(n, 2);
    app.shutdown.trigger();
}
