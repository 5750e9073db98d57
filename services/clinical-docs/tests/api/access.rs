//! Every read goes through the access decision: no relationship, no document; a sealed
//! document is hidden from a clinician with a relationship (and from the list and its total),
//! opens with break-glass (audited as such), and a sealed-and-locked one never opens outside
//! its nominees. Each read leaves an audit record.
use crate::helpers::*;
use prost::Message as _;
use tessera_proto::access::v1 as access;

#[tokio::test]
async fn sealed_documents_stay_hidden_open_with_break_glass_and_locked_ones_never_open() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let author = app.clinician(0, "dr-gum");
    let open_doc = app.draft(&p, &author, "Routine follow-up.").await;
    let sealed_doc = app
        .draft(&p, &author, "Sensitive: sexual health clinic.")
        .await;
    let locked_doc = app.draft(&p, &author, "Extra sensitive.").await;

    // No relationship: nothing at all.
    let stranger = app.token(0, "dr-stranger", &[DOCS], &[]);
    let a = app.get(&format!("/documents/{open_doc}"), &stranger).await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.relationship"))
    );
    let a = app
        .get(&format!("/documents?patient_id={p}"), &stranger)
        .await;
    assert_eq!(a.status, 403);

    // The patient asks for two documents sealed to the author; one locked.
    for (doc, level) in [
        (&sealed_doc, access::SealLevel::Sealed),
        (&locked_doc, access::SealLevel::SealedAndLocked),
    ] {
        let seal = access::SealSet {
            patient_id: p.clone(),
            item: format!("document:{doc}"),
            level: level as i32,
            users: vec!["dr-gum".into()],
            teams: vec![],
            directive_id: String::new(),
        };
        app.access_event(0, "consent", &p, "SealSet", seal.encode_to_vec())
            .await;
    }
    let seals = format!(
        "SELECT count(*) AS n FROM {}.access_seal WHERE patient_id = '{p}'",
        app.schema(0)
    );
    assert!(
        tessera_testkit::wait_until(std::time::Duration::from_secs(30), || async {
            app.scalar(&seals).await == 2
        })
        .await,
        "the seals never reached the projection"
    );

    // A colleague in the care team: the open document, not the sealed ones.
    let colleague = app.token(0, "dr-ward", &[DOCS], &[TEAM]);
    assert_eq!(
        app.get(&format!("/documents/{open_doc}"), &colleague)
            .await
            .status,
        200
    );
    let a = app
        .get(&format!("/documents/{sealed_doc}"), &colleague)
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.sealed"))
    );
    let a = app
        .get(&format!("/documents/{locked_doc}"), &colleague)
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.locked"))
    );
    let a = app
        .get(
            &format!("/documents/{sealed_doc}/versions/1/content"),
            &colleague,
        )
        .await;
    assert_eq!(a.status, 403);
    let a = app
        .get(&format!("/documents?patient_id={p}"), &colleague)
        .await;
    assert_eq!(
        (a.status, a.body["total"].as_i64()),
        (200, Some(1)),
        "{}",
        a.body
    );
    let a = app
        .get(
            &format!("/documents?patient_id={p}&q=sensitive"),
            &colleague,
        )
        .await;
    assert_eq!(
        a.body["total"], 0,
        "search never finds what the caller may not see"
    );

    // The author (nominated) sees all three.
    let a = app
        .get(&format!("/documents?patient_id={p}"), &author)
        .await;
    assert_eq!(a.body["total"], 3);

    // Break-glass: an emergency clinician with the override activity, granted by the access
    // service (which raised the alert), opens the sealed document — never the locked one.
    let emergency = app.token(0, "dr-ed", &[DOCS, OVERRIDE], &[]);
    let grant = access::BreakGlassGranted {
        id: uuid::Uuid::now_v7().to_string(),
        patient_id: p.clone(),
        user_id: "dr-ed".into(),
        reason_code: "04".into(),
        granted_at: chrono::Utc::now().to_rfc3339(),
        expires_at: (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
    };
    app.access_event(
        0,
        "relationship",
        &p,
        "BreakGlassGranted",
        grant.encode_to_vec(),
    )
    .await;
    let glass = format!(
        "SELECT count(*) AS n FROM {}.access_break_glass WHERE patient_id = '{p}'",
        app.schema(0)
    );
    assert!(
        tessera_testkit::wait_until(std::time::Duration::from_secs(30), || async {
            app.scalar(&glass).await == 1
        })
        .await,
        "the grant never reached the projection"
    );
    let a = app
        .get(&format!("/documents/{sealed_doc}"), &emergency)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["text"], "Sensitive: sexual health clinic.");
    let a = app
        .get(&format!("/documents/{locked_doc}"), &emergency)
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("access.locked"))
    );
    let a = app
        .get(&format!("/documents?patient_id={p}"), &emergency)
        .await;
    assert_eq!(
        a.body["total"], 2,
        "break-glass lists the sealed one, not the locked one"
    );

    // Every read audited; the break-glass read says so.
    let audit = |reason: &str, user: &str| {
        format!(
            "SELECT count(*) AS n FROM {}.audit_log WHERE user_id = '{user}' AND reason = '{reason}' AND patient_id = '{p}'",
            app.schema(0)
        )
    };
    assert!(app.scalar(&audit("ok-break-glass", "dr-ed")).await >= 2);
    assert_eq!(app.scalar(&audit("access.locked", "dr-ed")).await, 1);
    assert!(app.scalar(&audit("access.sealed", "dr-ward")).await >= 1);
    app.shutdown.trigger();
}
