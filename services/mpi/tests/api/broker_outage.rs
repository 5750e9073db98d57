//! Registration while the broker is down still answers 201; the event is delivered once the
//! broker is back. Uses a private broker process, so other tests keep theirs.
use crate::helpers::*;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn a_registration_during_a_broker_outage_is_accepted_and_its_event_delivered_later() {
    let mut broker = kit::PrivateBroker::start();
    let kafka = broker.kafka();
    let tenant = kit::unique_ods();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let config = test_config(std::slice::from_ref(&tenant), &idp, &kafka).await;
    let app = TestApp::start(config, vec![tenant.clone()], idp, kafka.clone()).await;

    broker.kill();
    let r = app.register(&app.clerk(0), &jane(Some("9434765919"))).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // It waits in the outbox while the broker is away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.outbox WHERE msg_key = '{id}' AND topic LIKE '%.mpi.patient'",
            app.schema(0)
        ))
        .await,
        1
    );

    // The backlog metric the runbook tells operators to watch shows it.
    assert!(
        kit::wait_until(Duration::from_secs(15), || async {
            outbox_pending(&app, &tenant).await >= 1
        })
        .await,
        "tessera_outbox_pending shows the waiting event"
    );

    broker.restart();
    let topic = format!("tessera.{}.mpi.patient", tenant.to_lowercase());
    let msgs = kit::read_topic(&kafka, &topic, 1, Duration::from_secs(45)).await;
    let mine: Vec<_> = msgs
        .iter()
        .filter(|m| m.key.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(mine.len(), 1, "delivered exactly once after the outage");
    assert!(
        kit::wait_until(Duration::from_secs(10), || async {
            app.scalar(&format!(
                "SELECT count(*) AS n FROM {}.outbox",
                app.schema(0)
            ))
            .await
                == 0
        })
        .await
    );
    assert!(
        kit::wait_until(Duration::from_secs(15), || async {
            outbox_pending(&app, &tenant).await == 0
        })
        .await,
        "tessera_outbox_pending back to 0 once drained"
    );
    app.stop().await;
}

/// `tessera_outbox_pending{tenant}` from the MPI's `/metrics` (-1 if absent).
async fn outbox_pending(app: &TestApp, tenant: &str) -> i64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = format!("tenant=\"{tenant}\"");
    text.lines()
        .find(|l| l.starts_with("tessera_outbox_pending{") && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1)
}
