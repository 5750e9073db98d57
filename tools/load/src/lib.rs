//! `tessera-load`: drives the running platform (`cargo xtask up`) like a region's staff, for
//! a chosen time and rate, and watches what the platform does with it: answers and their
//! latency per operation, every service's outbox backlog, the audit store's lag, and the
//! broker's health by a real round trip. After the load it waits for the backlogs to drain
//! and verifies every trust's audit chain. `cargo xtask soak` runs it on release builds.
pub mod check;
pub mod cpu;
pub mod journal;
pub mod observe;
pub mod ops;
pub mod platform;
pub mod report;
mod seed;
mod send;
pub mod stats;

pub use report::{render, Interval, Report};

use observe::Observer;
use ops::Op;
use platform::Platform;
use rand::{Rng, SeedableRng};
use seed::{seed, seed_clinic, seed_ward, Clinic, Ward};
use send::send_as_a_client_would;
use stats::Stats;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub platform: std::path::PathBuf,
    pub duration: Duration,
    /// Concurrent connections (each a closed loop of requests).
    pub connections: usize,
    /// Requests a second over all connections; 0: as fast as the platform answers.
    pub rate: u32,
    pub report_every: Duration,
    /// Patients registered per trust before the load starts.
    pub seed_patients: usize,
    /// How long to wait after the load for backlogs to drain.
    pub settle: Duration,
    /// Where to save the journal of writes for the invariant checker.
    pub journal: Option<std::path::PathBuf>,
}

struct Shared {
    platform: Platform,
    client: reqwest::Client,
    trusts: Vec<String>,
    patients: Vec<RwLock<Vec<String>>>,
    /// Each trust's load clinic, set up before the load ([`seed_clinic`]).
    clinics: Vec<Clinic>,
    /// Each trust's load ward ([`seed_ward`]), and the spells the load admitted into it and
    /// has not discharged yet.
    wards: Vec<Ward>,
    /// (spell, patient, when admitted).
    in_beds: Vec<Mutex<Vec<(String, String, Instant)>>>,
    stats: Mutex<Stats>,
    journal: Mutex<journal::Journal>,
}

pub async fn run(cfg: LoadConfig) -> Result<Report, String> {
    let platform = Platform::load(&cfg.platform)?;
    let observer = Observer::connect(&platform).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.connections)
        // Below the services' keep-alive (actix-web: 5 s), so a pooled connection is never
        // reused just as the server closes it (a transport error no real failure caused).
        .pool_idle_timeout(Duration::from_secs(4))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let trusts: Vec<String> = platform.trusts.keys().cloned().collect();
    let mut shared = Shared {
        patients: trusts.iter().map(|_| RwLock::new(Vec::new())).collect(),
        clinics: Vec::new(),
        wards: Vec::new(),
        in_beds: trusts.iter().map(|_| Mutex::new(Vec::new())).collect(),
        trusts,
        platform,
        client,
        stats: Mutex::new(Stats::default()),
        journal: Mutex::new(journal::Journal::default()),
    };
    seed(&shared, cfg.seed_patients).await?;
    for trust in shared.trusts.clone() {
        let c = seed_clinic(&shared, &trust).await?;
        shared.clinics.push(c);
        let w = seed_ward(&shared, &trust).await?;
        shared.wards.push(w);
    }
    let shared = Arc::new(shared);
    println!(
        "load: {} connections, {} for {} s, {} trusts",
        cfg.connections,
        if cfg.rate == 0 {
            "as fast as answered".to_string()
        } else {
            format!("{} req/s", cfg.rate)
        },
        cfg.duration.as_secs(),
        shared.trusts.len()
    );
    let started = Instant::now();
    let deadline = started + cfg.duration;
    let workers: Vec<_> = (0..cfg.connections)
        .map(|w| tokio::spawn(worker(shared.clone(), w, cfg.clone(), deadline)))
        .collect();
    let mut all = Stats::default();
    let mut timeline = Vec::new();
    let mut broker_failures = 0;
    let (mut max_backlog, mut max_lag) = (0, 0);
    let mut ticks = cpu::ticks();
    let mut ticked = Instant::now();
    let mut taken = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(cfg.report_every.min(deadline - Instant::now())).await;
        let now_ticks = cpu::ticks();
        let cpu_shares = cpu::shares(&ticks, &now_ticks, ticked.elapsed().as_secs_f64());
        (ticks, ticked) = (now_ticks, Instant::now());
        let interval = std::mem::take(&mut *lock(&shared.stats));
        // The interval ran from the last take to this one — the sleep *and* the last sample,
        // which takes a moment of its own — so its rate is over that, not over the sleep.
        let interval_seconds = taken.elapsed().as_secs_f64().max(0.001);
        taken = Instant::now();
        let sample = observer.sample().await.ok();
        if let Some(s) = &sample {
            max_backlog = max_backlog.max(s.outbox_backlog);
            max_lag = max_lag.max(s.audit_lag());
            broker_failures += usize::from(s.broker_error.is_some());
        }
        let row = Interval {
            at_seconds: started.elapsed().as_secs(),
            requests_per_second: interval.total() as f64 / interval_seconds,
            p50_ms: interval.overall_percentile(50.0),
            p99_ms: interval.overall_percentile(99.0),
            server_errors: interval.server_errors(),
            unexpected: interval.unexpected(),
            sample,
            cpu: cpu_shares,
        };
        print_interval(&row);
        all.merge(&interval);
        timeline.push(row);
    }
    for w in workers {
        let _ = w.await;
    }
    lock(&shared.journal).ended_at = chrono::Utc::now();
    if let Some(path) = &cfg.journal {
        lock(&shared.journal).save(path)?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    all.merge(&std::mem::take(&mut *lock(&shared.stats)));
    let stopped = Instant::now();
    let (drained, final_sample) =
        observe::settle(&observer, cfg.settle, &mut broker_failures).await;
    let drained_after_seconds = drained.then(|| stopped.elapsed().as_secs_f64());
    let chains_intact = check::verify_chains(&shared.client, &shared.platform).await;
    Ok(Report {
        seconds: load_seconds,
        connections: cfg.connections,
        target_rate: cfg.rate,
        requests: all.total(),
        requests_per_second: all.total() as f64 / load_seconds,
        p50_ms: all.overall_percentile(50.0),
        p99_ms: all.overall_percentile(99.0),
        server_errors: all.server_errors(),
        unexpected: all.unexpected(),
        broker_failures,
        max_outbox_backlog: max_backlog,
        max_audit_lag: max_lag,
        drained_after_seconds,
        final_sample,
        chains_intact,
        ops: all.summary(Duration::from_secs_f64(load_seconds)),
        timeline,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn print_interval(r: &Interval) {
    let s = r.sample.as_ref();
    let cpu: Vec<String> = r.cpu.iter().map(|(g, p)| format!("{g} {p:.0}%")).collect();
    println!(
        "t={:>5}s  {:>7.1} req/s  p50 {:>6.1} ms  p99 {:>7.1} ms  5xx {:>3}  other {:>3}  outbox {:>6}  audit lag {:>7}  broker {}  cpu: {}",
        r.at_seconds,
        r.requests_per_second,
        r.p50_ms,
        r.p99_ms,
        r.server_errors,
        r.unexpected,
        s.map_or("?".into(), |s| s.outbox_backlog.to_string()),
        s.map_or("?".into(), |s| s.audit_lag().to_string()),
        s.map_or("?".into(), |s| match (&s.broker_ms, &s.broker_error) {
            (Some(ms), _) => format!("{ms} ms"),
            (_, Some(e)) => format!("FAILED: {e}"),
            _ => "?".into(),
        }),
        cpu.join(", "),
    );
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn worker(shared: Arc<Shared>, w: usize, cfg: LoadConfig, deadline: Instant) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64 ^ 0x7e55e7a);
    let period = (cfg.rate > 0)
        .then(|| Duration::from_secs_f64(cfg.connections as f64 / f64::from(cfg.rate)));
    let mut next = Instant::now() + period.map_or(Duration::ZERO, |p| p.mul_f64(rng.gen()));
    while Instant::now() < deadline {
        if let Some(p) = period {
            tokio::time::sleep_until(next.into()).await;
            next += p;
        }
        let i = rng.gen_range(0..shared.trusts.len());
        let patient = {
            let pool = shared.patients[i]
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pool[rng
                .gen_range(0..pool.len().max(1))
                .min(pool.len().saturating_sub(1))]
            .clone()
        };
        let mut op = Op::draw(&mut rng);
        let clinic = &shared.clinics[i];
        let slot = clinic
            .slots
            .get(rng.gen_range(0..clinic.slots.len().max(1)))
            .map_or("", String::as_str);
        let ward = &shared.wards[i];
        let bed = ward
            .beds
            .get(rng.gen_range(0..ward.beds.len().max(1)))
            .map_or("", String::as_str);
        // A discharge takes a spell the load admitted; with none in, the board is read.
        let spell = match op {
            Op::Discharge => {
                let mut spells = lock(&shared.in_beds[i]);
                let n = spells.len();
                (n > 0).then(|| spells.swap_remove(rng.gen_range(0..n)).0)
            }
            _ => None,
        };
        if op == Op::Discharge && spell.is_none() {
            op = Op::BedBoard;
        }
        // A note is about a patient admitted at least five seconds ago (the relationship the
        // admission gives has reached the documents service); with none, the board is read.
        let inpatient = match op {
            Op::Note | Op::DocList => {
                let spells = lock(&shared.in_beds[i]);
                let settled: Vec<&(String, String, Instant)> = spells
                    .iter()
                    .filter(|(_, _, at)| at.elapsed() > Duration::from_secs(5))
                    .collect();
                (!settled.is_empty()).then(|| settled[rng.gen_range(0..settled.len())].1.clone())
            }
            _ => None,
        };
        if matches!(op, Op::Note | Op::DocList) && inpatient.is_none() {
            op = Op::BedBoard;
        }
        let to = ops::Target {
            patient: &patient,
            slot,
            clinic: &clinic.id,
            ward: &ward.id,
            bed,
            spell: spell.as_deref().unwrap_or_default(),
            inpatient: inpatient.as_deref().unwrap_or_default(),
        };
        let req = ops::request(
            op,
            &shared.trusts[i],
            &shared.platform.trusts[&shared.trusts[i]],
            to,
            &mut rng,
        );
        let t0 = Instant::now();
        let (status, body) = send_as_a_client_would(&shared, &req).await;
        lock(&shared.stats).record(op, status, t0.elapsed());
        match (op, status, body.as_ref()) {
            (Op::Admit, Some(201), Some(b)) => {
                if let Some(id) = b["id"].as_str() {
                    lock(&shared.in_beds[i]).push((
                        id.to_string(),
                        patient.clone(),
                        Instant::now(),
                    ));
                }
            }
            // The bed goes to cleaning; housekeeping makes it ready again.
            (Op::Discharge, Some(200), Some(b)) => {
                if let Some(bed) = b["stays"]
                    .as_array()
                    .and_then(|s| s.last())
                    .and_then(|s| s["bed_id"].as_str())
                {
                    let ready = ops::Request::setup(
                        "pas",
                        &shared.trusts[i],
                        &shared.platform.trusts[&shared.trusts[i]].tokens.ward_staff,
                        reqwest::Method::PUT,
                        format!("/beds/{bed}/state"),
                        Some(serde_json::json!({ "state": "available" })),
                    );
                    let t0 = Instant::now();
                    let (status, _) = send_as_a_client_would(&shared, &ready).await;
                    lock(&shared.stats).record(Op::BedReady, status, t0.elapsed());
                }
            }
            _ => {}
        }
        if op == Op::Register {
            if let Some(id) = body.as_ref().and_then(|b| b["id"].as_str()) {
                let mut pool = write(&shared.patients[i]);
                if pool.len() < 5_000 {
                    pool.push(id.to_string());
                }
            }
        }
    }
}
