//! Tenants onboarded at runtime are provisioned without a restart; replicas starting together
//! migrate a schema once.
use crate::helpers::*;
use std::time::Duration;
use tessera_mpi::store::migration::TenantMigrator;
use tessera_tenancy::{migrate_tenant, TenantId};
use tessera_testkit as kit;

#[tokio::test]
async fn a_tenant_onboarded_at_runtime_is_provisioned_without_a_restart() {
    let late = kit::unique_ods();
    let late2 = late.clone();
    let app = TestApp::spawn_with(1, move |c| {
        c.tenancy.only.get_or_insert_with(Vec::new).push(late2)
    })
    .await;
    let token = app.token(&late, &[AMEND]);
    // Not a tenant yet.
    assert_eq!(app.register(&token, &jane(None)).await.status(), 403);
    kit::onboard(&app.kafka, &late).await;
    app.wait_ready(std::slice::from_ref(&late)).await;
    let r = app.register(&token, &jane(Some("9434765919"))).await;
    assert_eq!(r.status(), 201);
    let schema = format!("t_{}", late.to_lowercase());
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.patient"))
            .await,
        1
    );
    for stream in ["mpi.patient", "audit.events"] {
        let msgs = kit::read_topic(
            &app.kafka,
            &format!("tessera.{}.{stream}", late.to_lowercase()),
            1,
            Duration::from_secs(15),
        )
        .await;
        assert!(!msgs.is_empty(), "{stream} topic has the event");
    }
    app.stop().await;
}

#[tokio::test]
async fn concurrent_migrations_of_one_tenant_apply_each_migration_once() {
    let url = kit::database("tessera_mpi_test").await;
    let tenant = TenantId::parse(&kit::unique_ods()).unwrap();
    let runs = (0..4).map(|_| migrate_tenant::<TenantMigrator>(&url, &tenant));
    for r in futures::future::join_all(runs).await {
        r.unwrap();
    }
    let idp = kit::TestIdp::new();
    let config = test_config(&[tenant.to_string()], &idp, &kit::kafka()).await;
    let db = sea_orm::Database::connect(config.database_url)
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n, count(DISTINCT version) AS d FROM {}.seaql_migrations",
                tenant.schema()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    let d: i64 = row.try_get("", "d").unwrap();
    let all = migrations();
    assert_eq!((n, d), (all, all));
}

#[tokio::test]
async fn two_replicas_starting_together_both_become_ready_on_one_schema() {
    let tenant = kit::unique_ods();
    let kafka = kit::kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let config = test_config(std::slice::from_ref(&tenant), &idp, &kafka).await;
    let idp2 = kit::TestIdp {
        idp: tessera_access::dev::DevIdp::generate("u", "u"),
        jwks_path: idp.jwks_path.clone(),
    };
    let (a, b) = tokio::join!(
        TestApp::start(config.clone(), vec![tenant.clone()], idp, kafka.clone()),
        TestApp::start(config, vec![tenant.clone()], idp2, kafka.clone()),
    );
    assert_eq!(
        a.scalar(&format!(
            "SELECT count(*) AS n FROM t_{}.seaql_migrations",
            tenant.to_lowercase()
        ))
        .await,
        migrations()
    );
    // Both serve the same patients.
    let p = a.registered(0, &jane(None)).await;
    let r = b
        .get(
            &format!("/patients/{}", p["id"].as_str().unwrap()),
            &a.clerk(0),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    a.stop().await;
    b.stop().await;
}

/// How many migrations a tenant schema gets: each must be applied exactly once.
fn migrations() -> i64 {
    use sea_orm_migration::MigratorTrait;
    tessera_mpi::store::migration::TenantMigrator::migrations().len() as i64
}
