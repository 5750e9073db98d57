//! Shared by the MPI benchmarks: workload driver, percentiles, NHS numbers.
#![allow(dead_code)]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_mpi::{Application, Config};
use tessera_testkit as kit;

/// The MPI built in-process (release, 2 HTTP workers) for one fresh, onboarded tenant, with
/// rate limits out of the way, ready to take requests.
pub struct Bench {
    pub tenant: String,
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub database_url: String,
    pub shutdown: Shutdown,
    /// The benchmark's own broker, when `TESSERA_TEST_KAFKA` names none.
    _broker: Option<kit::PrivateBroker>,
}

impl Bench {
    pub async fn start(idle_connections: usize) -> Self {
        let tenant = kit::unique_ods();
        let (kafka, broker) = kit::bench_kafka();
        kit::onboard(&kafka, &tenant).await;
        let idp = kit::TestIdp::new();
        let mut config = Config::default();
        config.http.port = 0;
        config.http.management_port = 0;
        config.http.workers = 2;
        config.database_url = kit::database("tessera_mpi_test").await;
        config.database_max_connections = 32;
        config.redis_url = kit::redis_url();
        config.kafka = kafka;
        config.auth = idp.auth_config();
        config.tenancy.only = Some(vec![tenant.clone()]);
        config.rate_limit.per_tenant_per_second = 1_000_000;
        config.telemetry.log_level = "error".into();
        let database_url = config.database_url.clone();
        let app = Application::build(config).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let shutdown = Shutdown::new();
        tokio::spawn(app.run(shutdown.clone()));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(idle_connections)
            .build()
            .unwrap();
        let token = idp.token(&tenant, &["B0825"]);
        let ready = kit::wait_until(Duration::from_secs(60), || async {
            client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .map(|r| r.status() == 200)
                .unwrap_or(false)
        })
        .await;
        assert!(ready);
        Self {
            tenant,
            base,
            client,
            token,
            database_url,
            shutdown,
            _broker: broker,
        }
    }

    pub async fn stop(self) {
        println!(
            "tenant {} (schema t_{}) left in database tessera_mpi_test",
            self.tenant,
            self.tenant.to_lowercase()
        );
        self.shutdown.trigger();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The i-th valid NHS number in the test ranges 998/999xxxxxxx (stems with check value 10
/// skipped).
pub fn nhs_numbers(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    // 998 and 999: never issued (synthetic/test), room for 1.8 million valid numbers.
    let mut stem: u64 = 998_000_000;
    while out.len() < n {
        let s = stem.to_string();
        let sum: u32 = s
            .bytes()
            .zip((2..=10).rev())
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c),
        };
        if let Some(c) = check {
            out.push(format!("{s}{c}"));
        }
        stem += 1;
    }
    out
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn drive(
    total: usize,
    concurrency: usize,
    work: impl Fn(usize) -> futures::future::BoxFuture<'static, bool> + Send + Sync + 'static,
) -> (Duration, Vec<Duration>, usize) {
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (work, next) = (work.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                if !work(i).await {
                    failures += 1;
                }
                lat.push(t.elapsed());
            }
            (lat, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    all.sort();
    (elapsed, all, failures)
}
