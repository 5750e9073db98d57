//! `cargo xtask soak`: the platform of `up` (release builds unless `--debug`), then
//! `tessera-load` against it for a chosen time and rate. Prints throughput, latency, errors,
//! broker health, outbox backlog and audit-store lag as it goes, then whether the backlogs
//! drained and every audit chain verifies; the JSON report goes to `.tessera/soak-report.json`.
//! Then the invariant checker (`tessera-load --check`) on the load's journal
//! (`.tessera/soak-journal.json`): nothing acknowledged lost, nothing doubled, no patient
//! lost, every outbox published, one audit record per request, every chain intact.
use crate::platform::{self, Profile};
use crate::{root, run, state_dir};

/// How a soak ended: the load's own verdict, and the invariant checker's.
pub struct Soaked {
    pub load_ok: bool,
    pub checker_clean: bool,
}

pub fn soak(args: &[String]) -> Result<(), String> {
    let s = soak_and_check(args)?;
    match (s.load_ok, s.checker_clean) {
        (true, true) => Ok(()),
        (false, _) => Err(format!(
            "the soak failed; see {}",
            state_dir().join("soak-report.json").display()
        )),
        (true, false) => Err("the invariant checker found something (above)".into()),
    }
}

/// The soak, then the invariant checker on its journal.
pub fn soak_and_check(args: &[String]) -> Result<Soaked, String> {
    let value = |name: &str, default: &str| -> String {
        crate::arg(args, name).unwrap_or_else(|| default.to_string())
    };
    let profile = if args.iter().any(|a| a == "--debug") {
        Profile::Debug
    } else {
        Profile::Release
    };
    build_with_load(profile)?;
    platform::up(profile)?;
    let report = state_dir().join("soak-report.json");
    let journal = state_dir().join("soak-journal.json");
    let load = root().join(profile.dir()).join("tessera-load");
    let (seconds, connections, rate, settle) = (
        value("--seconds", "300"),
        value("--connections", "32"),
        value("--rate", "0"),
        value("--settle", "120"),
    );
    let ok = run(
        &load.display().to_string(),
        &[
            "--platform",
            &state_dir().join("platform.json").display().to_string(),
            "--seconds",
            &seconds,
            "--connections",
            &connections,
            "--rate",
            &rate,
            "--settle",
            &settle,
            "--out",
            &report.display().to_string(),
            "--journal",
            &journal.display().to_string(),
        ],
    );
    // Then the invariant checker, on what the load acknowledged and the databases now hold.
    let clean = run(
        &load.display().to_string(),
        &[
            "--platform",
            &state_dir().join("platform.json").display().to_string(),
            "--check",
            &journal.display().to_string(),
        ],
    );
    if args.iter().any(|a| a == "--floor") {
        // The database alone doing a patient read's work, same clients, same PostgreSQL,
        // straight after: the soak as a ratio to it (issue 14).
        let floor = crate::floor::measure(
            &seconds
                .parse::<u64>()
                .map_or_else(|_| "60".to_string(), |s| s.min(60).to_string()),
            &connections,
        )?;
        let soak: serde_json::Value = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let rps = soak["requests_per_second"].as_f64().unwrap_or(0.0);
        let p99 = soak["p99_ms"].as_f64().unwrap_or(0.0);
        println!(
            "floor: pgbench, {connections} clients, an audited patient read's statements: {:.0} tps, p50 {:.1} ms, p99 {:.1} ms\nsoak:  {rps:.0} mixed req/s ({:.0}% of the floor's tps), p99 {p99:.1} ms ({:.1}× the floor's p99)",
            floor.tps,
            floor.p50_ms,
            floor.p99_ms,
            100.0 * rps / floor.tps.max(1.0),
            p99 / floor.p99_ms.max(0.001),
        );
    }
    Ok(Soaked {
        load_ok: ok,
        checker_clean: clean,
    })
}

/// One build of the services and `tessera-load`, so features resolve as for `up` and nothing
/// is rebuilt.
pub fn build_with_load(profile: Profile) -> Result<(), String> {
    let mut packages = platform::SERVICE_PACKAGES.to_vec();
    packages.push("tessera-load");
    platform::cargo_build(&packages, profile)
}
