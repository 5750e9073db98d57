//! Every metric an alert rule or a dashboard panel uses (deploy/monitoring) exists in the
//! services and moves: the whole platform runs, each service's `/metrics` is scraped, one
//! trust's ordinary work is done (a registration the others consume, a break-glass, an audit
//! verification), and each metric is looked for again — counters and histograms must have
//! grown, gauges must be there for the labels the rules group by. The tenant operator's own
//! metrics are asserted to move in its reconcile tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tessera_e2e::Platform;

const VIEW: &str = "B0820";
const OVERRIDE: &str = "B0083";

/// A series name's family: a histogram's `_bucket`/`_count`/`_sum` folded into its name.
fn family(name: &str) -> &str {
    ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// `tessera_…` names in `text`, histogram series folded to their family.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("tessera_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .map_or(text.len(), |n| start + n);
        if boundary {
            out.insert(family(&text[start..end]).to_string());
        }
        i = end;
    }
    out
}

/// Every sample of the scrape `text`: (family, labels) → value.
fn samples(text: &str) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        *out.entry((family(name).to_string(), format!("{name}{{{labels}")))
            .or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}

fn total(s: &BTreeMap<(String, String), f64>, family: &str) -> (usize, f64) {
    let v: Vec<f64> = s
        .iter()
        .filter(|((f, _), _)| f == family)
        .map(|(_, v)| *v)
        .collect();
    (v.len(), v.iter().sum())
}

async fn scrape(p: &Platform) -> BTreeMap<(String, String), f64> {
    let mut all = BTreeMap::new();
    for m in p.management.values() {
        let text = p
            .client
            .get(format!("{m}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for ((family, series), v) in samples(&text) {
            all.insert((family, format!("{m} {series}")), v);
        }
    }
    all
}

#[tokio::test]
async fn every_metric_the_alerts_and_dashboards_use_exists_and_moves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut used =
        names_in(&std::fs::read_to_string(root.join("deploy/monitoring/alerts.yaml")).unwrap());
    for entry in std::fs::read_dir(root.join("deploy/monitoring/dashboards")).unwrap() {
        used.extend(names_in(
            &std::fs::read_to_string(entry.unwrap().path()).unwrap(),
        ));
    }
    let (operator, services): (Vec<String>, Vec<String>) = used
        .into_iter()
        .partition(|n| n.starts_with("tessera_operator_"));
    assert!(services.len() >= 12, "{services:?}");

    // The operator's: declared in its metrics and asserted to move in its reconcile tests.
    let declared =
        std::fs::read_to_string(root.join("services/tenant-operator/src/metrics.rs")).unwrap();
    let moved =
        std::fs::read_to_string(root.join("services/tenant-operator/tests/reconcile.rs")).unwrap();
    for name in &operator {
        let short = name.trim_start_matches("tessera_operator_");
        assert!(
            declared.contains(&format!("\"{short}\"")),
            "{name} is not declared by the operator"
        );
        assert!(
            moved.contains(name.as_str()),
            "{name} is not asserted to move in the operator's tests"
        );
    }

    let p = Platform::start_with_region(1).await;
    let before = scrape(&p).await;
    // A trust's ordinary work.
    let patient = p.register_known(0, "Metricson").await;
    let ed = p.token(0, "dr-e", "R8000", &[VIEW, OVERRIDE], &[]);
    let claim = json!({ "patient_id": patient, "reason_code": "04", "justification": "collapsed in ED", "duration_seconds": 600 });
    assert_eq!(
        p.access(Method::POST, "/break-glass", &ed, Some(claim))
            .await
            .status,
        201
    );
    let officer = p.token(0, "po-1", "R5105", &[VIEW], &[]);
    let verified = p.access(Method::GET, "/audit/verify", &officer, None).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    // An HL7 v2 message over the trust's MLLP listener (answered, whatever its ACK).
    let port = p.mllp.iter().find(|(t, _)| t == p.tenant(0)).unwrap().1;
    let mut mllp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let ods = p.tenant(0);
    let msg = format!(
        "MSH|^~\\&|PAS|{ods}|TESSERA|{ods}|20261208090000+0000||ADT^A08|MON1|P|2.4|||AL|NE\rEVN|A08|20261208090000+0000\rPID|1||9999999999^^^NHS^NH||Metricson^Alex||19800505|F\r"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    mllp.write_all(&tessera_hl7::mllp::frame(msg.as_bytes()))
        .await
        .unwrap();
    let mut ack = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(20), mllp.read(&mut ack))
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0, "an ACK");
    // The trust's own rate limit, set on its tenant record (as the operator does): 2 a
    // second, then a burst of requests of that trust.
    let record = tessera_proto::tenancy::v1::TenantRecord {
        ods_code: ods.to_string(),
        name: format!("Test trust {ods}"),
        status: tessera_proto::tenancy::v1::TenantStatus::Active as i32,
        updated_at: chrono::Utc::now().to_rfc3339(),
        services: Vec::new(),
        settings: Some(tessera_proto::tenancy::v1::TenantSettings {
            rate_limit_per_second: Some(2),
        }),
    };
    tessera_tenancy::publish_tenant(&p.kafka, &record)
        .await
        .unwrap();
    let limited = tessera_testkit::wait_until(Duration::from_secs(15), || async {
        let answers = futures::future::join_all(
            (0..8).map(|_| p.access(Method::GET, "/audit/verify", &officer, None)),
        )
        .await;
        answers.iter().any(|a| a.status == 429)
    })
    .await;
    assert!(
        limited,
        "the trust's own rate limit never reached the access service"
    );
    // librdkafka's statistics arrive every 10 s.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let after = scrape(&p).await;

    let mut missing = Vec::new();
    for name in &services {
        let (n_after, v_after) = total(&after, name);
        let (_, v_before) = total(&before, name);
        let counter =
            name.ends_with("_total") || name.ends_with("_seconds") && name.contains("duration");
        let ok = if counter {
            v_after > v_before
        } else {
            n_after > 0
        };
        if !ok {
            missing.push(format!("{name}: {n_after} series, {v_before} → {v_after}"));
        }
    }
    assert!(
        missing.is_empty(),
        "metrics that do not exist or did not move: {missing:#?}"
    );
    // The labels the rules group by.
    let labelled =
        |family: &str, label: &str| after.keys().any(|(f, s)| f == family && s.contains(label));
    assert!(labelled(
        "tessera_tenant_ready",
        &format!("tenant=\"{}\"", p.tenant(0))
    ));
    assert!(labelled(
        "tessera_consumer_lag_messages",
        "stream=\"audit.events\""
    ));
    assert!(labelled("tessera_db_pool_connections", "state=\"max\""));
    assert!(labelled(
        "tessera_audit_chain_verifications_total",
        "result=\"intact\""
    ));
    p.stop().await;
}
