//! The property: any sequence of drafts, edits, sign-offs, amendments and entered-in-error
//! marks — valid or not, by the author or another clinician, some against a stale version —
//! leaves every version retrievable byte for byte, in order, with its author and reason, and
//! each refused step refused with the code a model of the rules predicts.
use crate::helpers::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
enum Op {
    Edit {
        author: bool,
        text: String,
    },
    Sign {
        author: bool,
    },
    Amend {
        author: bool,
        text: String,
        reason: String,
    },
    EnteredInError {
        author: bool,
        reason: String,
    },
    /// An edit sent with the version before the newest.
    Stale {
        text: String,
    },
}

fn text() -> impl Strategy<Value = String> {
    // Layout matters: leading spaces, blank lines, tabs, accents and emoji are kept as sent.
    "[ a-zA-Z0-9.,\n\t\u{e9}\u{f6}\u{1F600}]{0,120}".prop_map(|s| format!("x{s}"))
}

fn reason() -> impl Strategy<Value = String> {
    "[a-z]{1,12}( [a-z]{1,12}){0,3}"
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), text()).prop_map(|(author, text)| Op::Edit { author, text }),
        2 => (prop::bool::weighted(0.8)).prop_map(|author| Op::Sign { author }),
        2 => (any::<bool>(), text(), reason()).prop_map(|(author, text, reason)| Op::Amend { author, text, reason }),
        1 => (any::<bool>(), reason()).prop_map(|(author, reason)| Op::EnteredInError { author, reason }),
        1 => text().prop_map(|text| Op::Stale { text }),
    ]
}

/// One step as sent: path, user, If-Match, body, and what the model predicts.
type Step = (
    String,
    &'static str,
    i64,
    Option<serde_json::Value>,
    Result<Expected, (u16, &'static str)>,
);

/// What the model expects a version to hold.
#[derive(Debug, Clone)]
struct Expected {
    action: &'static str,
    status: &'static str,
    bytes: Vec<u8>,
    by: String,
    reason: Option<String>,
}

#[tokio::test]
async fn any_sequence_of_changes_keeps_every_version_byte_for_byte() {
    let app = TestApp::spawn(1).await;
    let p = app.patient(0).await;
    let author = app.clinician(0, "dr-author");
    let other = app.clinician(0, "dr-other");
    let mut runner = TestRunner::default();
    let sequences = prop::collection::vec(op(), 1..14);
    for case in 0..30 {
        let ops = sequences.new_tree(&mut runner).unwrap().current();
        let first = "  Dear Dr Smith,\n\n\tSeen today.\n".to_string();
        let id = app.draft(&p, &author, &first).await;
        let doc = format!("/documents/{id}");
        let mut model = vec![Expected {
            action: "created",
            status: "draft",
            bytes: first.into_bytes(),
            by: "dr-author".into(),
            reason: None,
        }];
        for (step, op) in ops.iter().enumerate() {
            let current = model.len() as i64;
            let status = model[model.len() - 1].status;
            let last = model[model.len() - 1].bytes.clone();
            let who = |a: bool| {
                if a {
                    ("dr-author", &author)
                } else {
                    ("dr-other", &other)
                }
            };
            let (path, by, v, body, predicted): Step = match op {
                Op::Edit { author: a, text } => {
                    let (by, _) = who(*a);
                    let p = if status == "draft" {
                        Ok(Expected {
                            action: "edited",
                            status: "draft",
                            bytes: text.clone().into_bytes(),
                            by: by.into(),
                            reason: None,
                        })
                    } else {
                        Err((409, "document.signed"))
                    };
                    (doc.clone(), by, current, Some(json!({ "text": text })), p)
                }
                Op::Sign { author: a } => {
                    let (by, _) = who(*a);
                    let p = match (status, *a) {
                        ("draft", true) => Ok(Expected {
                            action: "signed",
                            status: "final",
                            bytes: last.clone(),
                            by: by.into(),
                            reason: None,
                        }),
                        ("draft", false) => Err((403, "document.not-author")),
                        _ => Err((409, "document.already-signed")),
                    };
                    (format!("{doc}/sign"), by, current, None, p)
                }
                Op::Amend {
                    author: a,
                    text,
                    reason,
                } => {
                    let (by, _) = who(*a);
                    let p = if status == "final" || status == "amended" {
                        Ok(Expected {
                            action: "amended",
                            status: "amended",
                            bytes: text.clone().into_bytes(),
                            by: by.into(),
                            reason: Some(reason.clone()),
                        })
                    } else {
                        Err((409, "document.not-signed"))
                    };
                    (
                        doc.clone(),
                        by,
                        current,
                        Some(json!({ "text": text, "reason": reason })),
                        p,
                    )
                }
                Op::EnteredInError { author: a, reason } => {
                    let (by, _) = who(*a);
                    let p = if status != "entered-in-error" {
                        Ok(Expected {
                            action: "entered-in-error",
                            status: "entered-in-error",
                            bytes: last.clone(),
                            by: by.into(),
                            reason: Some(reason.clone()),
                        })
                    } else {
                        Err((409, "document.entered-in-error"))
                    };
                    (
                        format!("{doc}/entered-in-error"),
                        by,
                        current,
                        Some(json!({ "reason": reason })),
                        p,
                    )
                }
                Op::Stale { text } => {
                    let p = if current > 1 {
                        Err((412, "document.stale"))
                    } else if status == "draft" {
                        Ok(Expected {
                            action: "edited",
                            status: "draft",
                            bytes: text.clone().into_bytes(),
                            by: "dr-author".into(),
                            reason: None,
                        })
                    } else {
                        Err((409, "document.signed"))
                    };
                    (
                        doc.clone(),
                        "dr-author",
                        (current - 1).max(1),
                        Some(json!({ "text": text })),
                        p,
                    )
                }
            };
            let token = if by == "dr-author" { &author } else { &other };
            let method = if path == doc {
                Method::PUT
            } else {
                Method::POST
            };
            let a = app.send(method, &path, token, Some(v), body).await;
            match predicted {
                Ok(e) => {
                    assert_eq!(a.status, 200, "case {case} step {step} {op:?}: {}", a.body);
                    assert_eq!(a.version, Some(current + 1));
                    model.push(e);
                }
                Err((status, code)) => {
                    assert_eq!(
                        (a.status, a.body["code"].as_str()),
                        (status, Some(code)),
                        "case {case} step {step} {op:?}: {}",
                        a.body
                    );
                }
            }
        }
        // Every version, in order, as the model says; each one's bytes exactly.
        let a = app.get(&format!("{doc}/versions"), &author).await;
        let versions = a.body["versions"].as_array().unwrap();
        assert_eq!(versions.len(), model.len(), "case {case}: {ops:?}");
        for (i, (got, want)) in versions.iter().zip(&model).enumerate() {
            let n = i + 1;
            assert_eq!(got["version"], n as i64);
            assert_eq!(got["action"], want.action, "case {case} version {n}");
            assert_eq!(got["status"], want.status, "case {case} version {n}");
            assert_eq!(got["by_user"], want.by.as_str(), "case {case} version {n}");
            assert_eq!(
                got["reason"].as_str(),
                want.reason.as_deref(),
                "case {case} version {n}"
            );
            assert_eq!(got["sha256"], hex::encode(Sha256::digest(&want.bytes)));
            let (s, bytes) = app
                .bytes(&format!("{doc}/versions/{n}/content"), &author)
                .await;
            assert_eq!(s, 200);
            assert_eq!(bytes, want.bytes, "case {case} version {n} byte for byte");
        }
    }
    // And nothing can rewrite them, not even the database's owner.
    let r = sea_orm::ConnectionTrait::execute(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "UPDATE {}.document_version SET content = 'x'",
                app.schema(0)
            ),
        ),
    )
    .await;
    assert!(r.is_err(), "a version was changed in place");
    app.shutdown.trigger();
}
