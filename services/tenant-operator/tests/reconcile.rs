//! The operator's reconcile against a mocked Kubernetes API server and the real platform:
//! the MPI and the access service (all seven services in the onboarding test) in-process,
//! the real broker, PostgreSQL and Redis. Each test asserts the exact requests made of the
//! API server and what the services then do for the trust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use kube::runtime::controller::Action;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{condition, trust, ApiServer};
use tessera_e2e::Platform;
use tessera_tenant_operator::metrics::OperatorMetrics;
use tessera_tenant_operator::probe::ServiceEndpoint;
use tessera_tenant_operator::{error_policy, Context, Trust, TrustState, FINALIZER};

/// The operator's context for `platform`'s services (plus any `extra` endpoints).
fn context(platform: &Platform, client: kube::Client, extra: &[(&str, &str)]) -> Arc<Context> {
    let mut services = Vec::new();
    for (name, base) in [
        ("mpi", &platform.mpi),
        ("access", &platform.access),
        ("referrals", &platform.referrals),
        ("scheduling", &platform.scheduling),
        ("pas", &platform.pas),
        ("clinical-docs", &platform.docs),
        ("region", &platform.region),
    ] {
        if let Some(m) = platform.management.get(base) {
            services.push(ServiceEndpoint {
                name: name.into(),
                management_url: m.clone(),
            });
        }
    }
    for (name, url) in extra {
        services.push(ServiceEndpoint {
            name: (*name).into(),
            management_url: (*url).into(),
        });
    }
    let mut ctx = Context::new(
        client,
        platform.kafka.clone(),
        services,
        OperatorMetrics::new().unwrap(),
    );
    ctx.settling_every = Duration::from_secs(5);
    ctx.settled_every = Duration::from_secs(300);
    Arc::new(ctx)
}

fn finalized(mut t: Trust) -> Trust {
    t.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
    t
}

/// Reconciles `trust` until `done` holds of the held `Trust` (at most 30 s), answering as
/// the API server; returns the last result and the held `Trust`.
async fn reconcile_until(
    api: &mut ApiServer,
    ctx: &Arc<Context>,
    mut trust: Trust,
    done: impl Fn(&Trust) -> bool,
) -> (
    Result<Action, tessera_tenant_operator::OperatorError>,
    Trust,
) {
    let t0 = std::time::Instant::now();
    loop {
        let (result, seen, held) = api.reconcile(ctx, &trust).await;
        for s in &seen {
            assert_eq!(s.method, "PATCH", "{s:?}");
        }
        trust = held;
        if done(&trust) || t0.elapsed() > Duration::from_secs(30) {
            return (result, trust);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn is_true(t: &Trust, type_: &str) -> bool {
    condition(t, type_).is_some_and(|c| c.0 == "True")
}

#[tokio::test]
async fn a_new_trust_first_gets_the_finalizer_and_nothing_is_published() {
    let platform = Platform::start_with_pending(0, 1, false).await;
    let ods = platform.tenant(0).to_string();
    let (client, mut api) = ApiServer::pair();
    let ctx = context(&platform, client, &[]);
    let (result, seen, held) = api.reconcile(&ctx, &trust(&ods)).await;
    assert_eq!(result.unwrap(), Action::await_change());
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "PATCH");
    assert_eq!(
        seen[0].uri,
        format!(
            "/apis/tessera.nhs.uk/v1alpha1/trusts/{}?",
            ods.to_lowercase()
        )
    );
    assert_eq!(
        seen[0].body,
        json!([
            { "op": "test", "path": "/metadata/finalizers", "value": null },
            { "op": "add", "path": "/metadata/finalizers", "value": [FINALIZER] }
        ])
    );
    assert_eq!(held.metadata.finalizers, Some(vec![FINALIZER.to_string()]));
    // Nothing published: the MPI has not heard of the trust.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mpi = &platform.management[&platform.mpi];
    let r = platform
        .client
        .get(format!("{mpi}/tenants/{ods}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_trust_is_onboarded_and_its_status_says_when_every_service_is_ready() {
    let platform = Platform::start_with_pending(0, 1, false).await;
    let ods = platform.tenant(0).to_string();
    let (client, mut api) = ApiServer::pair();
    let ctx = context(&platform, client, &[]);
    let (result, seen, held) = api.reconcile(&ctx, &finalized(trust(&ods))).await;
    // The first reconcile publishes and writes what the services said, whatever it was.
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].uri,
        format!(
            "/apis/tessera.nhs.uk/v1alpha1/trusts/{}/status?&force=true&fieldManager=tessera-tenant-operator",
            ods.to_lowercase()
        )
    );
    assert_eq!(seen[0].body["apiVersion"], "tessera.nhs.uk/v1alpha1");
    assert_eq!(seen[0].body["kind"], "Trust");
    assert!(is_true(&held, "Published"), "{:?}", held.status);
    assert!(result.is_ok());
    let (result, held) = reconcile_until(&mut api, &ctx, held, |t| is_true(t, "Ready")).await;
    let status = held.status.clone().unwrap();
    assert!(is_true(&held, "Ready"), "{status:?}");
    assert!(
        is_true(&held, "MpiReady") && is_true(&held, "AccessReady"),
        "{status:?}"
    );
    assert!(!is_true(&held, "Suspended"));
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.last_error, None);
    for s in &status.services {
        assert!(
            s.migrated && s.topics_created && s.ready && s.state == "ready",
            "{s:?}"
        );
    }
    // Settled: looked at again in five minutes, not five seconds.
    assert_eq!(result.unwrap(), Action::requeue(Duration::from_secs(300)));
    let metrics = ctx.metrics.render();
    assert!(metrics.contains(&format!(
        "tessera_operator_trust_ready{{trust=\"{ods}\"}} 1"
    )));
    let reconciles: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tessera_operator_reconciles_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        reconciles >= 2,
        "tessera_operator_reconciles_total counts each reconcile: {reconciles}"
    );
    // The trust is served: a patient registered and read back.
    let id = platform.register(0, "Operatorson").await;
    let clerk = platform.token(0, "clerk-1", "R8000", &["B0825"], &[]);
    let read = platform
        .mpi(Method::GET, &format!("/patients/{id}"), &clerk, None)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
}

#[tokio::test]
async fn a_failing_service_keeps_the_trust_not_ready_and_is_named() {
    let platform = Platform::start_with_pending(0, 1, false).await;
    let ods = platform.tenant(0).to_string();
    let (client, mut api) = ApiServer::pair();
    // PAS's management port is one nothing listens on.
    let ctx = context(&platform, client, &[("pas", "http://127.0.0.1:9")]);
    let (result, held) = reconcile_until(&mut api, &ctx, finalized(trust(&ods)), |t| {
        is_true(t, "MpiReady") && is_true(t, "AccessReady")
    })
    .await;
    assert!(
        is_true(&held, "MpiReady") && is_true(&held, "AccessReady"),
        "{:?}",
        held.status
    );
    let pas = condition(&held, "PasReady").unwrap();
    assert_eq!(
        (pas.0.as_str(), pas.1.as_str()),
        ("False", "Unreachable"),
        "{pas:?}"
    );
    let ready = condition(&held, "Ready").unwrap();
    assert_eq!(ready.0, "False");
    assert_eq!(ready.2, "waiting for: pas");
    // Not settled: looked at again soon.
    assert_eq!(result.unwrap(), Action::requeue(Duration::from_secs(5)));
    assert!(ctx.metrics.render().contains(&format!(
        "tessera_operator_trust_ready{{trust=\"{ods}\"}} 0"
    )));

    // A spec that cannot be acted on: said in the status, nothing published, backed off
    // longer each time, counted by its code.
    let mut bad = finalized(trust("ab-c"));
    bad.spec.ods_code = "ab-c".into();
    let (result, seen, held) = api.reconcile(&ctx, &bad).await;
    let error = result.unwrap_err();
    assert_eq!(error.code(), "trust.invalid-spec");
    assert_eq!(seen.len(), 1, "the status only: {seen:?}");
    assert!(held
        .status
        .as_ref()
        .unwrap()
        .last_error
        .as_ref()
        .unwrap()
        .contains("odsCode"));
    assert_eq!(condition(&held, "Ready").unwrap().1, "InvalidSpec");
    let bad = Arc::new(held);
    assert_eq!(
        error_policy(bad.clone(), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(5))
    );
    assert_eq!(
        error_policy(bad.clone(), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(10))
    );
    assert_eq!(
        error_policy(bad, &error, ctx.clone()),
        Action::requeue(Duration::from_secs(20))
    );
    assert!(ctx
        .metrics
        .render()
        .contains("tessera_operator_reconcile_failures_total{code=\"trust.invalid-spec\"} 3"));
}

#[tokio::test]
async fn an_update_is_applied_and_suspending_stops_every_service_serving_the_trust() {
    let platform = Platform::start_with_pending(0, 1, false).await;
    let ods = platform.tenant(0).to_string();
    let (client, mut api) = ApiServer::pair();
    let ctx = context(&platform, client, &[]);
    let (_, held) = reconcile_until(&mut api, &ctx, finalized(trust(&ods)), |t| {
        is_true(t, "Ready")
    })
    .await;
    assert!(is_true(&held, "Ready"), "{:?}", held.status);
    let id = platform.register(0, "Updateson").await;
    let clerk = platform.token(0, "clerk-1", "R8000", &["B0825"], &[]);

    // Generation 2: a rate limit of 2 requests a second for this trust.
    let mut limited = held.clone();
    limited.spec.settings.rate_limit_per_second = Some(2);
    limited.metadata.generation = Some(2);
    let (result, seen, held) = api.reconcile(&ctx, &limited).await;
    assert!(result.is_ok());
    assert_eq!(seen.len(), 1);
    assert_eq!(held.status.as_ref().unwrap().observed_generation, Some(2));
    let throttled = tessera_testkit::wait_until(Duration::from_secs(15), || async {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(
                platform
                    .mpi(Method::GET, &format!("/patients/{id}"), &clerk, None)
                    .await
                    .status,
            );
        }
        statuses.contains(&429)
    })
    .await;
    assert!(
        throttled,
        "the trust's own rate limit never reached the MPI"
    );

    // Generation 3: suspended. Every service stops serving it; its data is kept.
    let mut suspended = held.clone();
    suspended.spec.state = TrustState::Suspended;
    suspended.spec.settings.rate_limit_per_second = None;
    suspended.metadata.generation = Some(3);
    let (result, held) = reconcile_until(&mut api, &ctx, suspended, |t| {
        t.status
            .as_ref()
            .is_some_and(|s| s.services.iter().all(|s| s.state == "suspended"))
    })
    .await;
    assert!(result.is_ok());
    assert!(is_true(&held, "Suspended"), "{:?}", held.status);
    assert_eq!(condition(&held, "Ready").unwrap().1, "Suspended");
    // Not reported as a trust that should be ready (no TesseraTrustNotReady for it).
    assert!(
        !ctx.metrics.render().contains(&format!("trust=\"{ods}\"")),
        "{}",
        ctx.metrics.render()
    );
    assert_eq!(held.status.as_ref().unwrap().observed_generation, Some(3));
    assert_refused_and_kept(&platform, &clerk, &id).await;
}

#[tokio::test]
async fn deleting_a_trust_suspends_it_and_only_then_removes_the_finalizer() {
    let platform = Platform::start_with_pending(0, 1, false).await;
    let ods = platform.tenant(0).to_string();
    let (client, mut api) = ApiServer::pair();
    let ctx = context(&platform, client, &[]);
    let (_, held) = reconcile_until(&mut api, &ctx, finalized(trust(&ods)), |t| {
        is_true(t, "Ready")
    })
    .await;
    assert!(is_true(&held, "Ready"));
    let id = platform.register(0, "Deleteson").await;

    let mut deleted = held.clone();
    deleted.metadata.deletion_timestamp = Some(k8s_time());
    let mut last = deleted.clone();
    let mut removals = 0;
    let t0 = std::time::Instant::now();
    while last
        .metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| !f.is_empty())
    {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "never finished: {:?}",
            last.status
        );
        let (result, seen, held) = api.reconcile(&ctx, &last).await;
        assert!(
            seen[0].uri.contains("/status?"),
            "the status first: {seen:?}"
        );
        match result {
            Err(e) => {
                // Not every service has said so yet: the finalizer stays.
                assert_eq!(e.code(), "trust.suspending");
                assert_eq!(seen.len(), 1, "{seen:?}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(action) => {
                assert_eq!(action, Action::await_change());
                assert_eq!(
                    seen.len(),
                    2,
                    "status, then the finalizer's removal: {seen:?}"
                );
                assert_eq!(
                    seen[1].uri,
                    format!(
                        "/apis/tessera.nhs.uk/v1alpha1/trusts/{}?",
                        ods.to_lowercase()
                    )
                );
                assert_eq!(
                    seen[1].body,
                    json!([
                        { "op": "test", "path": "/metadata/finalizers/0", "value": FINALIZER },
                        { "op": "remove", "path": "/metadata/finalizers/0" }
                    ])
                );
                removals += 1;
            }
        }
        last = held;
    }
    assert_eq!(removals, 1);
    assert!(is_true(&last, "Suspended"), "{:?}", last.status);
    assert!(condition(&last, "Ready")
        .unwrap()
        .2
        .contains("records are kept"));
    for s in &last.status.as_ref().unwrap().services {
        assert_eq!(s.state, "suspended", "{s:?}");
    }
    let clerk = platform.token(0, "clerk-1", "R8000", &["B0825"], &[]);
    assert_refused_and_kept(&platform, &clerk, &id).await;
}

#[tokio::test]
async fn a_trust_applied_through_the_operator_is_served_by_every_running_service() {
    let platform = Platform::start_with_pending(1, 1, true).await;
    let ods = platform.tenant(1).to_string();
    let (client, mut api) = ApiServer::pair();
    let ctx = context(&platform, client, &[]);
    assert_eq!(ctx.services.len(), 7, "every service of the platform");
    let (_, held) = reconcile_until(&mut api, &ctx, finalized(trust(&ods)), |t| {
        is_true(t, "Ready")
    })
    .await;
    let status = held.status.clone().unwrap();
    assert!(is_true(&held, "Ready"), "{status:?}");
    let names: Vec<&str> = status.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mpi",
            "access",
            "referrals",
            "scheduling",
            "pas",
            "clinical-docs",
            "region"
        ]
    );
    for (name, base) in [
        ("mpi", &platform.mpi),
        ("access", &platform.access),
        ("referrals", &platform.referrals),
        ("scheduling", &platform.scheduling),
        ("pas", &platform.pas),
        ("clinical-docs", &platform.docs),
        ("region", &platform.region),
    ] {
        let m = &platform.management[base];
        let report: serde_json::Value = platform
            .client
            .get(format!("{m}/tenants/{ods}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report["state"], "ready", "{name}: {report}");
    }
    // The new trust works end to end: registered in the MPI, known to the other services
    // through the broker.
    let id = platform.register_known(1, "Onboardson").await;
    assert!(!id.is_empty());
}

/// The deletion timestamp the API server sets on `kubectl delete`.
fn k8s_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    serde_json::from_value(json!("2026-12-08T00:00:00Z")).unwrap()
}

/// The MPI refuses the suspended trust's requests (503, retryable) and still holds the
/// patient's record: suspension, by spec or by delete, keeps every clinical record.
async fn assert_refused_and_kept(platform: &Platform, clerk: &str, id: &str) {
    let refused = platform
        .mpi(Method::GET, &format!("/patients/{id}"), clerk, None)
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    let kept = Platform::scalar(
        &platform.mpi_db,
        &format!(
            "SELECT count(*) AS n FROM {}.patient WHERE id = '{id}'",
            platform.schema(0)
        ),
    )
    .await;
    assert_eq!(kept, 1, "a suspended trust's records are kept");
}
