use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_creates_one_patient() {
    let app = TestApp::spawn(1).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = jane(Some("9434765919"));
    let first = app
        .post("/patients", &app.clerk(0), &body)
        .header("Idempotency-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post("/patients", &app.clerk(0), &body)
        .header("Idempotency-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.patient_count(0).await, 1);
    // Same key, different body: refused.
    let r = app
        .post("/patients", &app.clerk(0), &jane(None))
        .header("Idempotency-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(app.patient_count(0).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_patient() {
    let app = TestApp::spawn(1).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = jane(None);
    let token = app.clerk(0);
    let sends = (0..8).map(|_| {
        app.post("/patients", &token, &body)
            .header("Idempotency-Key", &key)
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    assert_eq!(app.patient_count(0).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_database_key_holds_when_redis_forgot_the_first_response() {
    let app = TestApp::spawn(1).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = jane(None);
    let first: Value = app
        .post("/patients", &app.clerk(0), &body)
        .header("Idempotency-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Wipe the Redis entry, as if it expired or Redis restarted.
    let scope = format!("mpi:{}:U-TEST-1:patient.register", app.tenant(0));
    let redis = redis::Client::open(tessera_testkit::redis_url()).unwrap();
    let mut c = redis.get_multiplexed_async_connection().await.unwrap();
    let idem = tessera_edge::Idempotency::new(
        redis::aio::ConnectionManager::new(redis).await.unwrap(),
        60,
    );
    idem.abandon(&scope, &key).await.unwrap();
    let _: () = redis::cmd("PING").query_async(&mut c).await.unwrap();
    let again: Value = app
        .post("/patients", &app.clerk(0), &body)
        .header("Idempotency-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.patient_count(0).await, 1);
    app.stop().await;
}
