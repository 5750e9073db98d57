//! Audit completeness: 10,000 mixed requests through the MPI, and the audit store holds
//! exactly one record for each — permitted, denied and not found alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tessera_e2e::Platform;
use tessera_testkit as kit;

const REQUESTS: usize = 10_000;

#[tokio::test]
async fn ten_thousand_mixed_requests_leave_exactly_one_record_each_in_the_audit_store() {
    let p = Platform::start(1).await;
    let clerk = p.token(0, "clerk-1", "R8000", &["B0825"], &[]);
    let viewer = p.token(0, "dr-v", "R8000", &["B0820"], &[]);
    let nobody = p.token(0, "dr-n", "R8000", &["B1101"], &[]);
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            p.register_known(0, &format!("Seed{}", (b'a' + i) as char))
                .await,
        );
    }
    let sent = AtomicUsize::new(ids.len());
    let t0 = Instant::now();
    stream::iter(0..REQUESTS - ids.len())
        .for_each_concurrent(8, |i| {
            let (p, ids, clerk, viewer, nobody, sent) = (&p, &ids, &clerk, &viewer, &nobody, &sent);
            async move {
                let id = &ids[i % ids.len()];
                let a = match i % 20 {
                    0 | 1 => {
                        p.mpi(
                            Method::POST,
                            "/patients",
                            clerk,
                            Some(json!({
                                "names": [{ "family": format!("Load{i}"), "given": ["Pat"] }],
                                "birth_date": "1990-01-01", "administrative_sex": "male"
                            })),
                        )
                        .await
                    }
                    2..=8 => {
                        p.mpi(Method::GET, &format!("/patients/{id}"), viewer, None)
                            .await
                    }
                    9..=11 => {
                        p.mpi(
                            Method::GET,
                            "/patients?family=Seeda&birth_date=1980-05-05",
                            viewer,
                            None,
                        )
                        .await
                    }
                    12 | 13 => {
                        p.mpi(
                            Method::POST,
                            "/patients/$match",
                            viewer,
                            Some(json!({ "family": "Seedb", "birth_date": "1980-05-05" })),
                        )
                        .await
                    }
                    14 | 15 => {
                        p.mpi(Method::GET, &format!("/fhir/Patient/{id}"), viewer, None)
                            .await
                    }
                    16 => {
                        p.mpi(Method::GET, &format!("/patients/{id}/history"), clerk, None)
                            .await
                    }
                    17 => {
                        p.mpi(Method::GET, &format!("/patients/{id}"), nobody, None)
                            .await
                    }
                    18 => {
                        p.mpi(
                            Method::GET,
                            &format!("/patients/{}", uuid::Uuid::now_v7()),
                            viewer,
                            None,
                        )
                        .await
                    }
                    _ => p.mpi(Method::GET, "/patients?limit=5", viewer, None).await,
                };
                assert!(
                    [200, 201, 400, 403, 404].contains(&a.status),
                    "{} {}",
                    a.status,
                    a.body
                );
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    let sent = sent.load(Ordering::Relaxed);
    assert_eq!(sent, REQUESTS);
    eprintln!("{REQUESTS} requests in {:?}", t0.elapsed());
    let schema = p.schema(0);
    // The MPI wrote one record per request...
    let in_mpi = Platform::scalar(
        &p.mpi_db,
        &format!("SELECT count(*) AS n FROM {schema}.audit_log"),
    )
    .await;
    assert_eq!(in_mpi as usize, REQUESTS);
    // ...and every one reaches the audit store exactly once.
    let t1 = Instant::now();
    let q = format!("SELECT count(*) AS n FROM {schema}.audit_store WHERE service = 'mpi'");
    let arrived = kit::wait_until(Duration::from_secs(300), || async {
        Platform::scalar(&p.access_db, &q).await as usize >= REQUESTS
    })
    .await;
    let stored = Platform::scalar(&p.access_db, &q).await as usize;
    assert!(
        arrived,
        "only {stored} of {REQUESTS} records reached the audit store"
    );
    eprintln!(
        "audit store caught up {:?} after the last request",
        t1.elapsed()
    );
    // No more arrive (nothing doubled by redelivery), and they are the same records.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(Platform::scalar(&p.access_db, &q).await as usize, REQUESTS);
    let distinct = Platform::scalar(
        &p.access_db,
        &format!(
            "SELECT count(DISTINCT event_id) AS n FROM {schema}.audit_store WHERE service = 'mpi'"
        ),
    )
    .await;
    assert_eq!(distinct as usize, REQUESTS);
    for outcome in ["permit", "deny"] {
        let a = Platform::scalar(
            &p.mpi_db,
            &format!("SELECT count(*) AS n FROM {schema}.audit_log WHERE outcome = '{outcome}'"),
        )
        .await;
        let b = Platform::scalar(&p.access_db, &format!("SELECT count(*) AS n FROM {schema}.audit_store WHERE service = 'mpi' AND outcome = '{outcome}'")).await;
        assert_eq!(a, b, "{outcome}");
        assert!(a > 0, "{outcome}");
    }
    // And the chain over all of it verifies.
    let po = p.token(0, "po-1", "R0001", &["B0820"], &[]);
    let v = p.access(Method::GET, "/audit/verify", &po, None).await;
    assert_eq!(v.body["intact"], true, "{}", v.body);
    p.stop().await;
}
