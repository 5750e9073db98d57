//! The outbox relay publishes what a transaction committed (and nothing it rolled back), and a
//! consumer applies a redelivered event once — against the real database and broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::future::BoxFuture;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::{Metrics, Shutdown};
use tessera_events::{
    enqueue, run_consumer, CloudEventHeaders, ConsumerSpec, Handler, HandlerError, InboundEvent,
    OutgoingEvent, Relay,
};
use tessera_tenancy::{migrate_tenant, TenantDb, TenantId, TenantRegistry, TenantState};
use tessera_testkit as kit;

struct CreateApplied;
impl MigrationName for CreateApplied {
    fn name(&self) -> &str {
        "m20261122_900000_create_applied"
    }
}
#[async_trait::async_trait]
impl MigrationTrait for CreateApplied {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE TABLE applied (n int PRIMARY KEY, times int NOT NULL);
                 CREATE TABLE seen (n int PRIMARY KEY, times int NOT NULL)",
            )
            .await?;
        Ok(())
    }
}
struct TestMigrator;
impl MigratorTrait for TestMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(tessera_events::migration::CreateOutboxAndInbox),
            Box::new(tessera_events::migration::InboxPerConsumer),
            Box::new(CreateApplied),
        ]
    }
}

/// A second effect of the same events, by a second consumer (group) of the same topic.
struct Seen;
impl Handler for Seen {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        e: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let n: i32 = String::from_utf8_lossy(&e.payload)
                .parse()
                .map_err(|e| HandlerError::undecodable("payload", e))?;
            txn.execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO seen (n, times) VALUES ($1, 1) ON CONFLICT (n) DO UPDATE SET times = seen.times + 1",
                [n.into()],
            ))
            .await?;
            Ok(())
        })
    }
}

/// The effect: count how many times event n was applied.
struct Count;
impl Handler for Count {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        e: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let n: i32 = String::from_utf8_lossy(&e.payload)
                .parse()
                .map_err(|e| HandlerError::undecodable("payload", e))?;
            txn.execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO applied (n, times) VALUES ($1, 1) ON CONFLICT (n) DO UPDATE SET times = applied.times + 1",
                [n.into()],
            ))
            .await?;
            Ok(())
        })
    }
}

/// Publishes a test event carrying `n`, with CloudEvents headers, as a relay would.
async fn send_thing(producer: &FutureProducer, topic: &str, n: i32) {
    let headers = CloudEventHeaders {
        id: uuid::Uuid::now_v7().to_string(),
        r#type: "uk.nhs.tessera.test.Thing.v1".into(),
        source: "/tessera/test".into(),
        time: chrono::Utc::now().to_rfc3339(),
        subject: None,
        traceparent: None,
    };
    producer
        .send(
            FutureRecord::to(topic)
                .key("k")
                .payload(n.to_string().as_bytes())
                .headers(headers.to_kafka()),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn committed_events_are_relayed_and_a_redelivered_event_is_applied_once() {
    let url = kit::database("tessera_events_test").await;
    let kafka = kit::kafka();
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    let service = format!(
        "ev{}",
        uuid::Uuid::new_v4().simple().to_string()[..8].to_lowercase()
    );
    let topic = tenant.topic(&service, "things");
    migrate_tenant::<TestMigrator>(&url, &tenant).await.unwrap();
    tessera_tenancy::migrate_schema::<TestMigrator>(&url, tessera_tenancy::PLATFORM_SCHEMA)
        .await
        .unwrap();
    kafka
        .ensure_topics(std::slice::from_ref(&topic), false)
        .await
        .unwrap();
    let db = TenantDb::connect(&url, 5).await.unwrap();
    let registry = TenantRegistry::new();
    registry.set(tenant.clone(), TenantState::Ready);
    let metrics = Metrics::new("events-test").unwrap();
    let shutdown = Shutdown::new();

    let event = |n: i32| OutgoingEvent {
        topic: topic.clone(),
        key: format!("k{n}"),
        ce_type: "uk.nhs.tessera.test.Thing.v1".into(),
        source: "/tessera/test".into(),
        subject: None,
        payload: n.to_string().into_bytes(),
        trace: None,
    };
    // Event 1 commits; event 99 is rolled back and must never appear.
    let txn = db.begin(&tenant).await.unwrap();
    let id1 = enqueue(&txn, event(1)).await.unwrap();
    txn.commit().await.unwrap();
    let txn = db.begin(&tenant).await.unwrap();
    enqueue(&txn, event(99)).await.unwrap();
    txn.rollback().await.unwrap();

    let relay = Relay::new(db.clone(), &kafka, registry.clone(), metrics.clone()).unwrap();
    tokio::spawn(relay.run(shutdown.clone()));
    let spec = ConsumerSpec {
        group: format!("{service}-test"),
        service: service.clone(),
        stream: "things".into(),
        max_attempts: 3,
        only: Some(vec![tenant.clone()]),
    };
    tokio::spawn(run_consumer(
        kafka.clone(),
        spec,
        db.clone(),
        registry.clone(),
        Arc::new(Count),
        metrics,
        shutdown.clone(),
    ));

    // Redeliver event 1 by hand (same ce_id), then send event 2.
    let producer: FutureProducer = kafka.client_config().create().unwrap();
    let headers = |id: String| CloudEventHeaders {
        id,
        r#type: "uk.nhs.tessera.test.Thing.v1".into(),
        source: "/tessera/test".into(),
        time: chrono::Utc::now().to_rfc3339(),
        subject: None,
        traceparent: None,
    };
    for (id, n) in [(id1.to_string(), 1), (uuid::Uuid::now_v7().to_string(), 2)] {
        let payload = n.to_string();
        producer
            .send(
                FutureRecord::to(&topic)
                    .key("k")
                    .payload(&payload)
                    .headers(headers(id).to_kafka()),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }

    let count = |sql: String| {
        let db = db.clone();
        let tenant = tenant.clone();
        async move {
            let txn = db.begin(&tenant).await.unwrap();
            let row = txn
                .query_one(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            row.and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0)
        }
    };
    let both = kit::wait_until(Duration::from_secs(30), || {
        count("SELECT count(*)::bigint AS n FROM applied".into()).then(|n| async move { n == 2 })
    })
    .await;
    assert!(both, "events 1 and 2 were applied");
    // The relayed copy and the redelivered copy of event 1: applied once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        count("SELECT times::bigint AS n FROM applied WHERE n = 1".into()).await,
        1
    );
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM applied WHERE n = 99".into()).await,
        0
    );
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM inbox".into()).await,
        2
    );
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM outbox".into()).await,
        0
    );
    let msgs = kit::read_topic(&kafka, &topic, 3, Duration::from_secs(10)).await;
    assert_eq!(msgs.len(), 3, "relayed 1, redelivered 1, and 2");
    shutdown.trigger();
}

use futures::FutureExt;

/// Events that pile up while a consumer is away arrive together and are applied in batches
/// (one transaction per tenant's run); a message that fails in a batch is retried on its own
/// and dead-lettered, and every other one is applied exactly once — duplicates included.
#[tokio::test]
async fn a_backlog_is_applied_in_batches_with_a_bad_message_dead_lettered_alone() {
    let url = kit::database("tessera_events_test").await;
    let kafka = kit::kafka();
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    let service = format!(
        "eb{}",
        uuid::Uuid::new_v4().simple().to_string()[..8].to_lowercase()
    );
    let topic = tenant.topic(&service, "things");
    migrate_tenant::<TestMigrator>(&url, &tenant).await.unwrap();
    kafka
        .ensure_topics(std::slice::from_ref(&topic), false)
        .await
        .unwrap();
    let db = TenantDb::connect(&url, 5).await.unwrap();
    let registry = TenantRegistry::new();
    registry.set(tenant.clone(), TenantState::Ready);
    let metrics = Metrics::new("events-batch-test").unwrap();
    let shutdown = Shutdown::new();

    // 300 events, every tenth sent twice with the same ce_id, and one that cannot be applied.
    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    let mut messages = Vec::new();
    for n in 0..300 {
        let id = uuid::Uuid::now_v7().to_string();
        let payload = if n == 150 {
            "poison".to_string()
        } else {
            n.to_string()
        };
        let copies = if n % 10 == 0 { 2 } else { 1 };
        for _ in 0..copies {
            let headers = CloudEventHeaders {
                id: id.clone(),
                r#type: "uk.nhs.tessera.test.Thing.v1".into(),
                source: "/tessera/test".into(),
                time: chrono::Utc::now().to_rfc3339(),
                subject: None,
                traceparent: None,
            };
            messages.push((payload.clone(), headers.to_kafka()));
        }
    }
    let sends: Vec<_> = messages
        .iter()
        .map(|(payload, headers)| {
            producer.send(
                FutureRecord::to(&topic)
                    .key("k")
                    .payload(payload.as_bytes())
                    .headers(headers.clone()),
                Duration::from_secs(10),
            )
        })
        .collect();
    for r in futures::future::join_all(sends).await {
        r.unwrap();
    }

    let spec = ConsumerSpec {
        group: format!("{service}-test"),
        service: service.clone(),
        stream: "things".into(),
        max_attempts: 2,
        only: Some(vec![tenant.clone()]),
    };
    tokio::spawn(run_consumer(
        kafka.clone(),
        spec,
        db.clone(),
        registry.clone(),
        Arc::new(Count),
        metrics,
        shutdown.clone(),
    ));
    let count = |sql: &'static str| {
        let db = db.clone();
        let tenant = tenant.clone();
        async move {
            let txn = db.begin(&tenant).await.unwrap();
            let row = txn
                .query_one(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            row.and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0)
        }
    };
    let done = kit::wait_until(Duration::from_secs(60), || {
        count("SELECT count(*)::bigint AS n FROM inbox_dead_letter").then(|n| async move { n == 1 })
    })
    .await;
    assert!(done, "the bad message was dead-lettered");
    assert!(
        kit::wait_until(Duration::from_secs(30), || {
            count("SELECT count(*)::bigint AS n FROM applied").then(|n| async move { n == 299 })
        })
        .await,
        "every other event applied"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM applied WHERE times <> 1").await,
        0,
        "none applied twice"
    );
    assert_eq!(count("SELECT count(*)::bigint AS n FROM inbox").await, 299);
    shutdown.trigger();
}

/// Two consumers of one topic in one service (different groups, different effects) each apply
/// every event exactly once: the inbox is per consumer, so the first does not hide an event
/// from the second.
#[tokio::test]
async fn two_consumers_of_one_topic_in_one_schema_each_apply_every_event_once() {
    let url = kit::database("tessera_events_test").await;
    let kafka = kit::kafka();
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    let service = format!(
        "ev{}",
        uuid::Uuid::new_v4().simple().to_string()[..8].to_lowercase()
    );
    let topic = tenant.topic(&service, "things");
    migrate_tenant::<TestMigrator>(&url, &tenant).await.unwrap();
    kafka
        .ensure_topics(std::slice::from_ref(&topic), false)
        .await
        .unwrap();
    let db = TenantDb::connect(&url, 5).await.unwrap();
    let registry = TenantRegistry::new();
    registry.set(tenant.clone(), TenantState::Ready);
    let metrics = Metrics::new("events-test").unwrap();
    let shutdown = Shutdown::new();
    let handlers: [(&str, Arc<dyn Handler>); 2] =
        [("count", Arc::new(Count)), ("seen", Arc::new(Seen))];
    for (purpose, handler) in handlers {
        let spec = ConsumerSpec {
            group: format!("{service}-{purpose}"),
            service: service.clone(),
            stream: "things".into(),
            max_attempts: 3,
            only: Some(vec![tenant.clone()]),
        };
        tokio::spawn(run_consumer(
            kafka.clone(),
            spec,
            db.clone(),
            registry.clone(),
            handler,
            metrics.clone(),
            shutdown.clone(),
        ));
    }
    for n in 1..=3 {
        kit::produce(
            &kafka,
            &topic,
            "k",
            "uk.nhs.tessera.test.Thing.v1",
            n.to_string().into_bytes(),
        )
        .await;
    }
    let count = |sql: &'static str| {
        let db = db.clone();
        let tenant = tenant.clone();
        async move {
            let txn = db.begin(&tenant).await.unwrap();
            let row = txn
                .query_one(Statement::from_string(DbBackend::Postgres, sql.to_string()))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            row.and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0)
        }
    };
    let both = kit::wait_until(Duration::from_secs(30), || async {
        count("SELECT count(*)::bigint AS n FROM applied").await == 3
            && count("SELECT count(*)::bigint AS n FROM seen").await == 3
    })
    .await;
    assert!(both, "each consumer applied every event");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        count("SELECT max(times)::bigint AS n FROM applied").await,
        1
    );
    assert_eq!(count("SELECT max(times)::bigint AS n FROM seen").await, 1);
    assert_eq!(
        count("SELECT count(DISTINCT consumer)::bigint AS n FROM inbox").await,
        2
    );
    shutdown.trigger();
}

/// A trust onboarded a moment ago: its events reach this service while it is still migrating
/// the trust's schema. They wait for the schema — spending no attempts — and are applied, not
/// dead-lettered for arriving early (found onboarding 200 trusts under load, issue 14).
#[tokio::test]
async fn events_for_a_trust_still_being_provisioned_wait_and_are_applied() {
    let url = kit::database("tessera_events_test").await;
    let kafka = kit::kafka();
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    let service = format!(
        "ep{}",
        uuid::Uuid::new_v4().simple().to_string()[..8].to_lowercase()
    );
    let topic = tenant.topic(&service, "things");
    migrate_tenant::<TestMigrator>(&url, &tenant).await.unwrap();
    kafka
        .ensure_topics(std::slice::from_ref(&topic), false)
        .await
        .unwrap();
    let db = TenantDb::connect(&url, 5).await.unwrap();
    let registry = TenantRegistry::new();
    registry.set(tenant.clone(), TenantState::Provisioning);
    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    for n in 0..5 {
        send_thing(&producer, &topic, n).await;
    }
    let shutdown = Shutdown::new();
    let spec = ConsumerSpec {
        group: format!("{service}-test"),
        service: service.clone(),
        stream: "things".into(),
        max_attempts: 2,
        only: Some(vec![tenant.clone()]),
    };
    tokio::spawn(run_consumer(
        kafka.clone(),
        spec,
        db.clone(),
        registry.clone(),
        Arc::new(Count),
        Metrics::new("events-provisioning-test").unwrap(),
        shutdown.clone(),
    ));
    let count = |sql: &'static str| {
        let db = db.clone();
        let tenant = tenant.clone();
        async move {
            let txn = db.begin(&tenant).await.unwrap();
            let row = txn
                .query_one(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            row.and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0)
        }
    };
    // Two attempts would be spent in well under a second; the schema takes longer.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM inbox_dead_letter").await,
        0,
        "nothing dead-lettered while the trust is provisioned"
    );
    registry.set(tenant.clone(), TenantState::Ready);
    assert!(
        kit::wait_until(Duration::from_secs(30), || {
            count("SELECT count(*)::bigint AS n FROM applied").then(|n| async move { n == 5 })
        })
        .await,
        "every event applied once the trust is ready"
    );
    assert_eq!(
        count("SELECT count(*)::bigint AS n FROM inbox_dead_letter").await,
        0
    );
    shutdown.trigger();
}

/// A trust this deployment never provisions (its topic matched the pattern: a trust onboarded
/// elsewhere on the same broker): after the wait for an unknown trust, its message is
/// dead-lettered in the platform schema — kept, and no longer holding back the topics behind
/// it. Found when a test trust's events stalled a platform's audit store for minutes.
#[tokio::test]
async fn a_message_for_a_trust_never_provisioned_here_is_kept_aside_and_blocks_nothing() {
    let url = kit::database("tessera_events_test").await;
    let kafka = kit::kafka();
    let (known, ghost) = (
        TenantId::parse(&kit::unique_ods()).unwrap(),
        TenantId::parse(&kit::unique_ods()).unwrap(),
    );
    let service = format!(
        "eg{}",
        uuid::Uuid::new_v4().simple().to_string()[..8].to_lowercase()
    );
    migrate_tenant::<TestMigrator>(&url, &known).await.unwrap();
    tessera_tenancy::migrate_schema::<TestMigrator>(&url, tessera_tenancy::PLATFORM_SCHEMA)
        .await
        .unwrap();
    let topics = [
        known.topic(&service, "things"),
        ghost.topic(&service, "things"),
    ];
    kafka.ensure_topics(&topics, false).await.unwrap();
    let db = TenantDb::connect(&url, 5).await.unwrap();
    let registry = TenantRegistry::new();
    registry.set(known.clone(), TenantState::Ready);
    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    for n in [97, 98, 99] {
        send_thing(&producer, &topics[1], n).await;
    }
    for n in 0..3 {
        send_thing(&producer, &topics[0], n).await;
    }
    let shutdown = Shutdown::new();
    let spec = ConsumerSpec {
        group: format!("{service}-test"),
        service: service.clone(),
        stream: "things".into(),
        max_attempts: 2,
        only: Some(vec![known.clone(), ghost.clone()]),
    };
    tokio::spawn(run_consumer(
        kafka.clone(),
        spec,
        db.clone(),
        registry.clone(),
        Arc::new(Count),
        Metrics::new("events-ghost-test").unwrap(),
        shutdown.clone(),
    ));
    let count = |platform: bool, sql: String| {
        let (db, known) = (db.clone(), known.clone());
        async move {
            let txn = if platform {
                db.begin_platform().await.unwrap()
            } else {
                db.begin(&known).await.unwrap()
            };
            let row = txn
                .query_one(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            row.and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0)
        }
    };
    // One wait for the unknown trust (30 s), not one per message.
    let applied = kit::wait_until(Duration::from_secs(50), || {
        count(false, "SELECT count(*)::bigint AS n FROM applied".into())
            .then(|n| async move { n == 3 })
    })
    .await;
    assert!(applied, "the known trust's events were applied");
    let sql = format!(
        "SELECT count(*)::bigint AS n FROM inbox_dead_letter WHERE topic = '{}'",
        topics[1]
    );
    let kept = kit::wait_until(Duration::from_secs(50), || {
        count(true, sql.clone()).then(|n| async move { n == 3 })
    })
    .await;
    assert!(
        kept,
        "the unknown trust's messages are kept in the platform schema, waited for once"
    );
    shutdown.trigger();
}
