//! 100 clinicians update one draft at once with `If-Match`: exactly one update wins each
//! version, every other gets 412 with the current version, and — each loser reapplying its
//! change to what it was shown — no update is lost.
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_hundred_concurrent_updates_of_one_draft_lose_nothing() {
    let app = Arc::new(TestApp::spawn(1).await);
    let p = app.patient(0).await;
    let dr = app.clinician(0, "dr-0");
    let id = app.draft(&p, &dr, "v1").await;
    let doc = format!("/documents/{id}");

    // Round one: everyone read version 1 and sends at once.
    let mut tasks = vec![];
    for n in 0..100 {
        let (app, doc) = (app.clone(), doc.clone());
        tasks.push(tokio::spawn(async move {
            let token = app.clinician(0, &format!("dr-{n}"));
            let mut expected = 1;
            let mut first = None;
            let mut attempts = 0;
            loop {
                attempts += 1;
                let a = app
                    .send(
                        Method::PUT,
                        &doc,
                        &token,
                        Some(expected),
                        Some(json!({ "text": format!("edit by dr-{n}") })),
                    )
                    .await;
                first.get_or_insert(a.status);
                match a.status {
                    200 => return (first.unwrap_or(0), attempts, a.version.unwrap()),
                    412 => {
                        assert_eq!(a.body["code"], "document.stale");
                        let current = a.body["current"]["version"].as_i64().unwrap();
                        assert_eq!(
                            a.version,
                            Some(current),
                            "the 412's ETag is the current version"
                        );
                        assert!(current > expected, "412 only for a version that moved on");
                        expected = current;
                    }
                    s => panic!("unexpected {s}: {}", a.body),
                }
            }
        }));
    }
    let mut wins = vec![];
    let mut first_round_wins = 0;
    let mut stale = 0;
    for t in tasks {
        let (first, attempts, version) = t.await.unwrap();
        if first == 200 {
            first_round_wins += 1;
        }
        stale += attempts - 1;
        wins.push(version);
    }
    assert_eq!(
        first_round_wins, 1,
        "exactly one of the hundred wins version 2"
    );
    wins.sort();
    let want: Vec<i64> = (2..=101).collect();
    assert_eq!(wins, want, "each version won by exactly one update");
    assert!(stale >= 99, "every loser was told at least once ({stale})");

    // Every update is a version, none overwritten.
    let a = app.get(&format!("{doc}/versions"), &dr).await;
    let versions = a.body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 101);
    let mut texts: Vec<String> = versions[1..]
        .iter()
        .map(|v| v["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 100, "all hundred edits kept");
    for v in &versions[1..] {
        assert_eq!(
            v["text"].as_str().unwrap(),
            format!("edit by {}", v["by_user"].as_str().unwrap())
        );
    }
    app.shutdown.trigger();
}
