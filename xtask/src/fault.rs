//! `cargo xtask fault <mpi|access|referrals|broker> [--seconds N] [--connections C] [--debug]`:
//! the platform of `up` under the clinical load (`tessera-load`), one `kill -9` of the target at
//! a random moment in the load's second quarter, the target restarted as Kubernetes would
//! restart a crashed pod (the broker: as `up` restarts it), then the invariant checker on the
//! load's journal. Reports how long the target took to be ready again, how the requests
//! meanwhile were answered, and whether the checker is clean; fails if it is not.
use crate::platform::{self, Profile};
use crate::{infra, root, run, state_dir};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn fault(args: &[String]) -> Result<(), String> {
    let target = args.first().cloned().unwrap_or_default();
    if !["mpi", "access", "referrals", "broker"].contains(&target.as_str()) {
        return Err("cargo xtask fault <mpi|access|referrals|broker> [--seconds N] [--connections C] [--debug]".into());
    }
    let value = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let profile = Profile::from_args(args);
    let seconds: u64 = value("--seconds", "60")
        .parse()
        .map_err(|_| "--seconds: a number")?;
    let connections = value("--connections", "8");
    let mut build = vec![
        "build",
        "--quiet",
        "-p",
        "tessera-mpi",
        "-p",
        "tessera-access-service",
        "-p",
        "tessera-referrals",
        "-p",
        "tessera-load",
    ];
    if profile == Profile::Release {
        build.push("--release");
    }
    if !run("cargo", &build) {
        return Err("building the services and tessera-load failed".into());
    }
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
    println!("fault: kill -9 {target} at t≈{delay} s");
    let killed = Instant::now();
    if target == "broker" {
        infra::stop_broker();
        infra::ensure_healthy_broker()?;
    } else {
        platform::kill(&target)?;
        platform::restart(&target, profile)?;
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
