//! `cargo xtask fault <mpi|access|referrals|scheduling|pas|clinical-docs|region|broker|postgres|redis> [--seconds N]
//! [--connections C] [--debug]`: the platform of `up` under the clinical load
//! (`tessera-load`), one fault at a random moment in the load's second quarter — `kill -9` of a
//! service (restarted as Kubernetes restarts a crashed pod) or of the broker (restarted as
//! `up` restarts it), or a restart of PostgreSQL (`pg_ctlcluster … restart -m fast`: every
//! connection cut) or of Redis (nothing kept: rate limits, revocations and idempotency records
//! lost) — then the invariant checker on the load's journal. Reports how long the target took to be ready again, how the requests
//! meanwhile were answered, and whether the checker is clean; fails if it is not.
use crate::instance;
use crate::platform::{self, Profile};
use crate::{infra, root, run, state_dir};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGETS: [&str; 10] = [
    "mpi",
    "access",
    "referrals",
    "scheduling",
    "pas",
    "clinical-docs",
    "region",
    "broker",
    "postgres",
    "redis",
];

/// The machine's own commands (its notes): PostgreSQL 15's cluster, Redis keeping nothing.
const POSTGRES_RESTART: &str =
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart -m fast";
const REDIS_START: &str = "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
     --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log";

pub fn fault(args: &[String]) -> Result<(), String> {
    let target = args.first().cloned().unwrap_or_default();
    if !TARGETS.contains(&target.as_str()) {
        return Err(format!(
            "cargo xtask fault <{}> [--seconds N] [--connections C] [--debug]",
            TARGETS.join("|")
        ));
    }
    let value = |name: &str, default: &str| -> String {
        crate::arg(args, name).unwrap_or_else(|| default.to_string())
    };
    let profile = Profile::from_args(args);
    let seconds: u64 = value("--seconds", "60")
        .parse()
        .map_err(|_| "--seconds: a number")?;
    let connections = value("--connections", "8");
    crate::soak::build_with_load(profile)?;
    platform::up(profile)?;
    let load = root().join(profile.dir()).join("tessera-load");
    let platform_json = state_dir().join("platform.json").display().to_string();
    let journal = state_dir().join(format!("fault-{target}-journal.json"));
    let report = state_dir().join(format!("fault-{target}-report.json"));
    let mut child = Command::new(&load)
        .args([
            "--platform",
            &platform_json,
            "--seconds",
            &seconds.to_string(),
            "--connections",
            &connections,
            "--settle",
            "180",
            "--report-every",
            "5",
            "--journal",
            &journal.display().to_string(),
            "--out",
            &report.display().to_string(),
        ])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting tessera-load: {e}"))?;
    // Seeding takes a few seconds; the fault lands in the load's second quarter.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let delay = 10 + seconds / 4 + u64::from(nanos) % (seconds / 4).max(1);
    std::thread::sleep(Duration::from_secs(delay));
    println!("fault: {target} at t≈{delay} s");
    let killed = Instant::now();
    let recovered = inject(&target, profile);
    if let Err(e) = recovered {
        // The load would go on reporting a platform that is not coming back.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let ready_after = killed.elapsed();
    println!(
        "fault: {target} ready again after {:.1} s",
        ready_after.as_secs_f64()
    );
    let load_ok = child.wait().map_err(|e| e.to_string())?.success();
    let clean = run(
        &load.display().to_string(),
        &[
            "--platform",
            &platform_json,
            "--check",
            &journal.display().to_string(),
        ],
    );
    let answers = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .unwrap_or_default();
    println!(
        "fault {target}: ready again after {:.1} s; {} requests, {} answered 5xx, {} other unexpected (connection refused while down, retryable); load verdict {}; invariant checker {}",
        ready_after.as_secs_f64(),
        answers["requests"],
        answers["server_errors"],
        answers["unexpected"],
        if load_ok { "clean" } else { "not clean (see above)" },
        if clean { "clean" } else { "FOUND SOMETHING" },
    );
    if clean {
        Ok(())
    } else {
        Err(format!(
            "after kill -9 {target}, the invariant checker found something"
        ))
    }
}

/// The fault itself, and the recovery Kubernetes (or `up`) would make: back when ready.
fn inject(target: &str, profile: Profile) -> Result<(), String> {
    match target {
        "broker" => {
            infra::stop_broker();
            infra::ensure_healthy_broker()
        }
        "postgres" => {
            if !run("sh", &["-c", POSTGRES_RESTART]) {
                return Err("restarting PostgreSQL failed".into());
            }
            instance::wait_all_ready()
        }
        "redis" => {
            let _ = run("redis-cli", &["shutdown", "nosave"]);
            if !run("sh", &["-c", REDIS_START]) {
                return Err("starting Redis failed".into());
            }
            instance::wait_all_ready()
        }
        service => {
            instance::kill(service)?;
            instance::restart(service, profile)
        }
    }
}
