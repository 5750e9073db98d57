//! Access enforced across services: relationships, seals and break-glass decided by the
//! access service and enforced by the MPI, through the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_e2e::{shows_contact, traceparent, Platform};
use tessera_proto::referrals::v1 as referrals;
use tessera_testkit as kit;

const VIEW: &str = "B0820";
const OVERRIDE: &str = "B0083";
const ACCEPTED: &str = "uk.nhs.tessera.referrals.ReferralAccepted.v1";

async fn accept_referral(p: &Platform, patient: &str, team: &str) {
    let m = referrals::ReferralAccepted {
        referral_id: uuid::Uuid::now_v7().to_string(),
        patient_id: patient.into(),
        team: team.into(),
        clinician_user_id: String::new(),
        accepted_at: chrono::Utc::now().to_rfc3339(),
    };
    kit::produce(
        &p.kafka,
        &p.topic(0, "referrals", "referral"),
        patient,
        ACCEPTED,
        m.encode_to_vec(),
    )
    .await;
}

async fn contact_shown(p: &Platform, patient: &str, token: &str) -> bool {
    let a = p
        .mpi(Method::GET, &format!("/patients/{patient}"), token, None)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    shows_contact(&a.body)
}

#[tokio::test]
async fn a_relationship_created_by_a_referral_event_is_enforced_by_the_mpi_within_2_seconds() {
    let p = Platform::start(1).await;
    let dr = p.token(0, "dr-a", "R8000", &[VIEW], &["cardiology"]);
    // Warm-up: the consumers on both sides have found the topics once a first referral's
    // relationship reaches the MPI (topics are created at run time here; in a trust they
    // exist from onboarding).
    let warm = p.register_known(0, "Warmup").await;
    accept_referral(&p, &warm, "cardiology").await;
    assert!(
        kit::wait_until(Duration::from_secs(30), || contact_shown(&p, &warm, &dr)).await,
        "the warm-up relationship never reached the MPI"
    );

    let patient = p.register_known(0, "Related").await;
    let (tp, trace) = traceparent();
    let before = p
        .call(
            Method::GET,
            format!("{}/patients/{patient}", p.mpi),
            &dr,
            None,
            Some(&tp),
        )
        .await;
    assert_eq!(before.status, 200);
    assert!(
        !shows_contact(&before.body),
        "contact shown without a relationship"
    );
    assert_eq!(
        before.body["names"][0]["family"], "Related",
        "identity is still shown"
    );
    let audit = p.mpi_audit(0, &trace).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1, "contact-withheld:access.relationship");

    let t0 = Instant::now();
    accept_referral(&p, &patient, "cardiology").await;
    let enforced =
        kit::wait_until(Duration::from_secs(2), || contact_shown(&p, &patient, &dr)).await;
    let took = t0.elapsed();
    assert!(enforced, "not enforced by the MPI within 2 s");
    eprintln!("referral accepted → enforced by the MPI in {took:?}");
    // Another team still has none.
    let other = p.token(0, "dr-o", "R8000", &[VIEW], &["dermatology"]);
    assert!(!contact_shown(&p, &patient, &other).await);
    p.stop().await;
}

#[tokio::test]
async fn break_glass_opens_the_record_in_the_mpi_within_2_seconds_and_closes_when_it_expires() {
    let p = Platform::start(1).await;
    let ed = p.token(0, "dr-e", "R8000", &[VIEW, OVERRIDE], &[]);
    let patient = p.register_known(0, "Emergency").await;
    assert!(!contact_shown(&p, &patient, &ed).await);
    // Warm the MPI's consumer with a first grant on another patient.
    let warm = p.register_known(0, "Warmup").await;
    let claim = |id: &str, secs: i64| json!({ "patient_id": id, "reason_code": "04", "justification": "collapsed in ED", "duration_seconds": secs });
    assert_eq!(
        p.access(Method::POST, "/break-glass", &ed, Some(claim(&warm, 600)))
            .await
            .status,
        201
    );
    assert!(kit::wait_until(Duration::from_secs(30), || contact_shown(&p, &warm, &ed)).await);

    let t0 = Instant::now();
    let g = p
        .access(Method::POST, "/break-glass", &ed, Some(claim(&patient, 4)))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert!(
        kit::wait_until(Duration::from_secs(2), || contact_shown(&p, &patient, &ed)).await,
        "break-glass not honoured by the MPI within 2 s"
    );
    eprintln!("break-glass → honoured by the MPI in {:?}", t0.elapsed());
    let (tp, trace) = traceparent();
    let a = p
        .call(
            Method::GET,
            format!("{}/patients/{patient}", p.mpi),
            &ed,
            None,
            Some(&tp),
        )
        .await;
    assert!(shows_contact(&a.body));
    assert_eq!(p.mpi_audit(0, &trace).await[0].1, "ok-break-glass");
    // It expires on time: 4 s after the grant.
    let expires =
        chrono::DateTime::parse_from_rfc3339(g.body["grant"]["expires_at"].as_str().unwrap())
            .unwrap();
    let wait = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    let (tp, trace) = traceparent();
    let a = p
        .call(
            Method::GET,
            format!("{}/patients/{patient}", p.mpi),
            &ed,
            None,
            Some(&tp),
        )
        .await;
    assert!(
        !shows_contact(&a.body),
        "still open after the grant expired"
    );
    assert_eq!(
        p.mpi_audit(0, &trace).await[0].1,
        "contact-withheld:access.relationship"
    );
    p.stop().await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Present,
    Absent,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Unsealed,
    Sealed,
    Locked,
}

/// The rules, in words (same as libs/access's unit matrix): the contact group of a role with
/// only the view activity is clinical data; nobody here is nominated on a seal.
fn expected(
    activity: bool,
    rel: Rel,
    item: Item,
    glass: bool,
    same_trust: bool,
) -> (u16, &'static str) {
    if !activity {
        return (403, "access.activity");
    }
    if !same_trust {
        // The MPI answers from the caller's own trust only: another trust's patient is not
        // there (the regional view, with consent, is a later service).
        return (404, "not-found");
    }
    let related = rel == Rel::Present;
    let reason = if !related && !glass {
        if rel == Rel::Expired {
            "contact-withheld:access.relationship-expired"
        } else {
            "contact-withheld:access.relationship"
        }
    } else {
        match item {
            Item::Locked => "contact-withheld:access.locked",
            Item::Sealed if glass => "ok-break-glass",
            Item::Sealed => "contact-withheld:access.sealed",
            Item::Unsealed if related => "ok",
            Item::Unsealed => "ok-break-glass",
        }
    };
    (200, reason)
}

#[tokio::test]
async fn the_authorisation_matrix_over_http_every_cell_asserted_and_audited() {
    let p = Platform::start(2).await;
    let manager = p.token(0, "admin-1", "R8000", &["B0825"], &[]);
    let glass_claimer = p.token(0, "dr-glass", "R8000", &[VIEW, OVERRIDE], &["cardio"]);
    let pu = p
        .access(
            Method::PUT,
            "/teams/cardio",
            &manager,
            Some(json!({ "name": "Cardiology" })),
        )
        .await;
    assert_eq!(pu.status, 200, "{}", pu.body);
    let mut patients = Vec::new();
    for rel in [Rel::Present, Rel::Absent, Rel::Expired] {
        for item in [Item::Unsealed, Item::Sealed, Item::Locked] {
            let id = p.register_known(0, "Matrix").await;
            if rel != Rel::Absent {
                let r = p
                    .access(
                        Method::POST,
                        "/teams/cardio/caseload",
                        &manager,
                        Some(json!({ "patient_id": id })),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                if rel == Rel::Expired {
                    let rid = r.body["id"].as_str().unwrap();
                    let e = p
                        .access(
                            Method::POST,
                            &format!("/relationships/{rid}/end"),
                            &manager,
                            Some(json!({ "reason": "discharged" })),
                        )
                        .await;
                    assert_eq!(e.status, 200, "{}", e.body);
                }
            }
            let level = match item {
                Item::Unsealed => None,
                Item::Sealed => Some("sealed"),
                Item::Locked => Some("locked"),
            };
            if let Some(level) = level {
                let s = p
                    .access(
                        Method::PUT,
                        &format!("/seals/{id}/contact"),
                        &manager,
                        Some(json!({ "level": level, "users": ["someone-else"] })),
                    )
                    .await;
                assert_eq!(s.status, 200, "{}", s.body);
            }
            let g = p
                .access(Method::POST, "/break-glass", &glass_claimer, Some(json!({ "patient_id": id, "reason_code": "04", "justification": "matrix", "duration_seconds": 3600 })))
                .await;
            assert_eq!(g.status, 201, "{}", g.body);
            patients.push((rel, item, id));
        }
    }
    // The MPI's projection has all of it.
    let s = p.schema(0);
    let applied = kit::wait_until(Duration::from_secs(30), || async {
        Platform::scalar(
            &p.mpi_db,
            &format!("SELECT count(*) AS n FROM {s}.access_seal"),
        )
        .await
            == 6
            && Platform::scalar(
                &p.mpi_db,
                &format!("SELECT count(*) AS n FROM {s}.access_break_glass"),
            )
            .await
                == 9
            && Platform::scalar(
                &p.mpi_db,
                &format!(
                    "SELECT count(*) AS n FROM {s}.access_relationship WHERE ends_at IS NOT NULL"
                ),
            )
            .await
                == 3
            && Platform::scalar(
                &p.mpi_db,
                &format!("SELECT count(*) AS n FROM {s}.access_relationship"),
            )
            .await
                == 6
    })
    .await;
    assert!(applied, "the MPI's projection never caught up");

    let mut cells = 0;
    for activity in [true, false] {
        for glass in [true, false] {
            for same_trust in [true, false] {
                let trust = if same_trust { 0 } else { 1 };
                let user = if glass { "dr-glass" } else { "dr-plain" };
                let mut acts = vec![if activity { VIEW } else { "B1101" }];
                if glass {
                    acts.push(OVERRIDE);
                }
                let token = p.token(trust, user, "R8000", &acts, &["cardio"]);
                for (rel, item, id) in &patients {
                    let (status, reason) = expected(activity, *rel, *item, glass, same_trust);
                    let (tp, trace) = traceparent();
                    let a = p
                        .call(
                            Method::GET,
                            format!("{}/patients/{id}", p.mpi),
                            &token,
                            None,
                            Some(&tp),
                        )
                        .await;
                    let cell = format!("activity {activity} {rel:?} {item:?} glass {glass} same trust {same_trust}");
                    assert_eq!(a.status, status, "{cell}: {}", a.body);
                    if status == 200 {
                        assert_eq!(shows_contact(&a.body), reason.starts_with("ok"), "{cell}");
                    }
                    let audit = p.mpi_audit(trust, &trace).await;
                    assert_eq!(audit.len(), 1, "{cell}: one audit record");
                    let (outcome, got, st) = &audit[0];
                    assert_eq!((got.as_str(), *st as u16), (reason, status), "{cell}");
                    assert_eq!(
                        outcome,
                        if status == 200 { "permit" } else { "deny" },
                        "{cell}"
                    );
                    cells += 1;
                }
            }
        }
    }
    assert_eq!(cells, 72);
    p.stop().await;
}

#[tokio::test]
async fn a_patients_nomination_limits_the_contact_group_to_the_nominated_whoever_asks() {
    let p = Platform::start(1).await;
    let manager = p.token(0, "admin-1", "R8000", &["B0825"], &[]);
    let clerk = p.token(0, "clerk-1", "R8000", &["B0825"], &[]);
    let nominated = p.token(0, "nurse-n", "R8000", &[VIEW], &["sexual-health"]);
    let patient = p.register_known(0, "Nominee").await;
    let r = p
        .access(
            Method::POST,
            &format!("/consent/{patient}/nominations"),
            &manager,
            Some(json!({
                "item": "contact", "level": "locked", "teams": ["sexual-health"]
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The registration clerk sees the address until the seal reaches the MPI, then not.
    assert!(
        kit::wait_until(Duration::from_secs(10), || async {
            !contact_shown(&p, &patient, &clerk).await
        })
        .await,
        "the seal never reached the MPI"
    );
    // The nominated team sees it once related to the patient: the seal admits them, and a
    // view-only role still needs a relationship (here, the team's caseload).
    let caseload = p
        .access(
            Method::PUT,
            "/teams/sexual-health",
            &manager,
            Some(json!({ "name": "Sexual health" })),
        )
        .await;
    assert_eq!(caseload.status, 200);
    let c = p
        .access(
            Method::POST,
            "/teams/sexual-health/caseload",
            &manager,
            Some(json!({ "patient_id": patient })),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert!(
        kit::wait_until(Duration::from_secs(10), || contact_shown(
            &p, &patient, &nominated
        ))
        .await
    );
    // The clerk's update cannot change or erase what they cannot see.
    let current = p
        .mpi(Method::GET, &format!("/patients/{patient}"), &clerk, None)
        .await;
    let version = current.body["version"].as_i64().unwrap();
    let mut body = current.body.clone();
    for k in ["id", "version", "active", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["addresses"] =
        json!([{ "lines": ["9 Elsewhere"], "city": "York", "postcode": "YO1 7HH" }]);
    let u = p
        .client
        .put(format!("{}/patients/{patient}", p.mpi))
        .bearer_auth(&clerk)
        .header("If-Match", format!("\"{version}\""))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = u.status().as_u16();
    let answer: serde_json::Value = u.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        !shows_contact(&answer),
        "the update's answer shows the sealed group"
    );
    let seen = p
        .mpi(
            Method::GET,
            &format!("/patients/{patient}"),
            &nominated,
            None,
        )
        .await;
    assert_eq!(
        seen.body["addresses"][0]["postcode"], "LS2 9JT",
        "the sealed address was changed"
    );
    p.stop().await;
}

#[tokio::test]
async fn access_follows_the_patient_through_a_merge_and_back_through_an_unmerge() {
    let p = Platform::start(1).await;
    let manager = p.token(0, "admin-1", "R8000", &["B0825"], &[]);
    let dr = p.token(0, "dr-c", "R8000", &[VIEW], &["cardio"]);
    let merged = p.register_known(0, "Mergeaway").await;
    let survivor = p.register_known(0, "Survivor").await;
    assert_eq!(
        p.access(
            Method::PUT,
            "/teams/cardio",
            &manager,
            Some(json!({ "name": "Cardiology" }))
        )
        .await
        .status,
        200
    );
    let c = p
        .access(
            Method::POST,
            "/teams/cardio/caseload",
            &manager,
            Some(json!({ "patient_id": merged })),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert!(kit::wait_until(Duration::from_secs(10), || contact_shown(&p, &merged, &dr)).await);
    assert!(!contact_shown(&p, &survivor, &dr).await);
    let m = p
        .mpi(
            Method::POST,
            "/merges",
            &manager,
            Some(json!({ "survivor_id": survivor, "merged_id": merged })),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.body);
    assert!(
        kit::wait_until(Duration::from_secs(10), || contact_shown(
            &p, &survivor, &dr
        ))
        .await,
        "the merged record's relationship did not follow it to the survivor"
    );
    let merge_id = m.body["merge"]["id"]
        .as_str()
        .or(m.body["id"].as_str())
        .unwrap()
        .to_string();
    let u = p
        .mpi(
            Method::POST,
            &format!("/merges/{merge_id}/unmerge"),
            &manager,
            None,
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert!(
        kit::wait_until(Duration::from_secs(10), || async {
            !contact_shown(&p, &survivor, &dr).await
        })
        .await,
        "the copied relationship outlived the unmerge"
    );
    assert!(
        contact_shown(&p, &merged, &dr).await,
        "the restored record lost its own relationship"
    );
    p.stop().await;
}
