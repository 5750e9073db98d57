//! `cargo xtask upgrade [--from COMMIT] [--seconds N] [--connections C] [--release]`: a
//! rolling upgrade of every service under the clinical load, as Kubernetes rolls a
//! Deployment. The platform starts at version N — the last release (`release/LAST`, or
//! `--from`), built from a worktree into the shared `target/` and kept in
//! `target/releases/<commit>-<profile>/` — behind the local round-robin (`tessera-proxy`),
//! which routes to an instance only while its `/readyz` says ready. Then, one service at a
//! time: N+1 (this checkout) starts beside N on its own ports, against the same schemas and
//! topics; once it is ready, N gets SIGTERM, says "draining", is taken out of rotation, and
//! finishes what it holds. Afterwards the invariant checker runs on the load's journal.
//! Fails unless no request failed (no 5xx, no connection error, nothing the proxy could not
//! place) and the checker is clean.
use crate::instance;
use crate::platform::{self, Profile, SERVICES};
use crate::{output, root, run, state_dir, wait_for};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The proxy listens this far above each service's usual port (18081 for the MPI's 8081).
const PROXY_OFFSET: u16 = 10000;

/// What a service's upgrade took.
struct Step {
    service: &'static str,
    ready_after: Duration,
    drained_after: Duration,
}

pub fn upgrade(args: &[String]) -> Result<(), String> {
    let value = |name: &str| crate::arg(args, name);
    let profile = Profile::from_args(args);
    let from = match value("--from") {
        Some(c) => c,
        None => last_release()?,
    };
    let seconds: u64 = value("--seconds")
        .unwrap_or_else(|| "90".into())
        .parse()
        .map_err(|_| "--seconds: a number")?;
    let connections = value("--connections").unwrap_or_else(|| "8".into());
    let prior = prior_build(&from, profile)?;
    crate::soak::build_with_load(profile)?;
    platform::cargo_build(&["tessera-proxy"], profile)?;
    // Whatever ran before, the upgrade starts from N.
    platform::down()?;
    platform::up_from(profile, &prior)?;
    println!("upgrade: running {from} (N); upgrading to this checkout (N+1)");
    start_proxy(profile)?;
    let platform_json = platform_on(|s| s.port + PROXY_OFFSET, "upgrade-platform.json")?;
    let journal = state_dir().join("upgrade-journal.json");
    let report = state_dir().join("upgrade-report.json");
    let load = root().join(profile.dir()).join("tessera-load");
    let mut child = Command::new(&load)
        .args([
            "--platform",
            &platform_json,
            "--seconds",
            &seconds.to_string(),
        ])
        .args(["--connections", &connections, "--settle", "180"])
        .args(["--report-every", "5", "--journal", &display(&journal)])
        .args(["--out", &display(&report)])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting tessera-load: {e}"))?;
    let tenants: u32 = value("--tenants")
        .unwrap_or_else(|| "0".into())
        .parse()
        .map_err(|_| "--tenants: a number")?;
    let steps = roll(seconds, &root().join(profile.dir()), tenants);
    let load_ok = child.wait().map_err(|e| e.to_string())?.success();
    let steps = steps?;
    // The proxy's count of resent requests widens the checker's audit allowance; the checker
    // then reaches the N+1 instances directly.
    let proxied = stop_proxy();
    let mut check = vec!["--platform".to_string()];
    check.push(platform_on(|s| s.next().port, "upgraded-platform.json")?);
    check.extend(["--check".to_string(), display(&journal)]);
    for p in &proxied {
        check.push("--resent".into());
        check.push(format!(
            "{}={}",
            p["route"].as_str().unwrap_or("?"),
            p["resent"]
        ));
    }
    let check: Vec<&str> = check.iter().map(String::as_str).collect();
    let clean = run(&display(&load), &check);
    platform::down()?;
    if tenants > 0 {
        forget_test_trusts(tenants)?;
    }
    let answers: serde_json::Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let refused: u64 = proxied.iter().filter_map(|p| p["refused"].as_u64()).sum();
    println!("upgrade {from} → this checkout, under load:");
    for s in &steps {
        println!(
            "  {:<10} N+1 ready after {:.1} s; N drained and exited {:.1} s after SIGTERM",
            s.service,
            s.ready_after.as_secs_f64(),
            s.drained_after.as_secs_f64()
        );
    }
    for p in &proxied {
        println!("  proxy {p}");
    }
    println!(
        "  load: {} requests, {} answered 5xx, {} other unexpected; proxy could not place {refused}; load verdict {}; invariant checker {}",
        answers["requests"],
        answers["server_errors"],
        answers["unexpected"],
        if load_ok { "clean" } else { "NOT CLEAN" },
        if clean { "clean" } else { "FOUND SOMETHING" },
    );
    let failed = answers["server_errors"].as_u64() != Some(0)
        || answers["unexpected"].as_u64() != Some(0)
        || refused != 0;
    match (failed || !load_ok, clean) {
        (false, true) => Ok(()),
        (true, _) => Err("requests failed during the rolling upgrade (above)".into()),
        (false, false) => Err("the invariant checker found something after the upgrade".into()),
    }
}

/// The commit of the last release: the first line of `release/LAST` that is not a comment.
fn last_release() -> Result<String, String> {
    let path = root().join("release/LAST");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .ok_or_else(|| format!("{} names no commit", path.display()))
}

/// N's service binaries, built once from a worktree at `commit` into the shared target
/// directory (only the workspace's own crates compile again) and kept.
fn prior_build(commit: &str, profile: Profile) -> Result<PathBuf, String> {
    let spec = format!("{commit}^{{commit}}");
    let full = output("git", &["rev-parse", "--verify", &spec])
        .or_else(|| {
            // A shallow clone: fetch the release's commit, then look again.
            run("git", &["fetch", "--quiet", "origin", commit]);
            output("git", &["rev-parse", "--verify", &spec])
        })
        .ok_or_else(|| format!("{commit}: no such commit here, nor at origin"))?;
    let full = full.trim();
    let name = match profile {
        Profile::Debug => "debug",
        Profile::Release => "release",
    };
    let kept = root().join(format!("target/releases/{full}-{name}"));
    // A service new since N has no N: it starts as N+1 (instance::start falls back to this
    // checkout's build), as a new Deployment would be installed, and rolls N+1 to N+1.
    let at_n: Vec<_> = SERVICES
        .iter()
        .zip(platform::SERVICE_PACKAGES)
        .filter(|(s, _)| {
            let path = format!("{full}:services/{}/Cargo.toml", s.name);
            output("git", &["cat-file", "-e", &path]).is_some()
        })
        .collect();
    if at_n.iter().all(|(s, _)| kept.join(s.binary).exists()) {
        return Ok(kept);
    }
    let tree = root().join(format!("target/worktrees/{full}"));
    if !tree.exists()
        && !run(
            "git",
            &["worktree", "add", "--detach", &display(&tree), full],
        )
    {
        return Err(format!("git worktree add {full} failed"));
    }
    let mut args = vec!["build", "--quiet", "--manifest-path"];
    let manifest = display(&tree.join("Cargo.toml"));
    args.push(&manifest);
    for (_, p) in &at_n {
        args.extend(["-p", p]);
    }
    if profile == Profile::Release {
        args.push("--release");
    }
    println!("$ cargo {} (N = {full})", args.join(" "));
    let built = Command::new("cargo")
        .args(&args)
        .env("CARGO_TARGET_DIR", root().join("target"))
        .current_dir(&tree)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !built {
        return Err(format!("building {full} failed"));
    }
    std::fs::create_dir_all(&kept).map_err(|e| e.to_string())?;
    for (s, _) in &at_n {
        std::fs::copy(
            root().join(profile.dir()).join(s.binary),
            kept.join(s.binary),
        )
        .map_err(|e| format!("keeping {}: {e}", s.binary))?;
    }
    run("git", &["worktree", "remove", "--force", &display(&tree)]);
    Ok(kept)
}

/// Every service in turn, spaced over the load's middle: N+1 beside N, then N stopped.
fn roll(seconds: u64, bin: &Path, tenants: u32) -> Result<Vec<Step>, String> {
    // The load seeds its patients first (a few seconds); each step takes ~10 s; the steps
    // are spread over the load so that the last ends before it does.
    let started = Instant::now();
    if tenants > 0 {
        std::thread::sleep(Duration::from_secs(5));
        onboard_under_load(tenants)?;
    }
    let warmup = Duration::from_secs(10 + seconds / 10);
    let gap = Duration::from_secs(
        (seconds.saturating_sub(10 + seconds / 10) / 3)
            .saturating_sub(12)
            .max(2),
    );
    std::thread::sleep(warmup.saturating_sub(started.elapsed()));
    let mut steps = Vec::new();
    for s in SERVICES {
        let next = s.next();
        println!("upgrade: starting {} (N+1) beside {}", next.name, s.name);
        let started = Instant::now();
        instance::start(s, bin, &next)?;
        instance::wait_ready_within(&next, Duration::from_secs(600))?;
        let ready_after = started.elapsed();
        // Both serve for a moment, as during any rollout with maxSurge.
        std::thread::sleep(Duration::from_secs(3));
        println!("upgrade: SIGTERM to {} (N)", s.name);
        let stopping = Instant::now();
        if !instance::terminate(s.name, Duration::from_secs(60))? {
            return Err(format!("{} (N) was not running", s.name));
        }
        steps.push(Step {
            service: s.name,
            ready_after,
            drained_after: stopping.elapsed(),
        });
        if steps.len() < SERVICES.len() {
            std::thread::sleep(gap);
        }
    }
    Ok(steps)
}

/// Onboards `n` more trusts (ODS codes Z0001…) while N serves the load, and reports how long
/// each service took to provision every schema (all migrations, from nothing) and be ready.
fn onboard_under_load(n: u32) -> Result<(), String> {
    let codes: Vec<String> = (1..=n).map(|i| format!("Z{i:04}")).collect();
    let mut args = vec!["onboard"];
    args.extend(codes.iter().map(String::as_str));
    args.extend(["--name", "Upgrade test trust"]);
    let started = Instant::now();
    platform::admin(&args)?;
    println!(
        "upgrade: {n} trusts onboarded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for s in SERVICES {
        instance::wait_all_provisioned(&s.usual(), Duration::from_secs(900))?;
        println!(
            "upgrade: {} (N) serves {} trusts, every schema migrated, {:.1} s after the first record",
            s.name,
            n + 2,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Removes what `--tenants` added, so that later runs of the platform carry none of it: each
/// service's record of the test trusts and their schemas (events, outboxes, dead letters),
/// and the broker's storage with their ~1,200 topics (set aside: `up` starts a fresh broker
/// and the services re-create their topics, ADR 19).
pub fn forget_test_trusts(n: u32) -> Result<(), String> {
    // One statement per -c, each its own transaction: 200 schemas' locks at once would
    // exceed the lock table.
    let mut statements =
        vec!["DELETE FROM platform.tenant_registry WHERE ods_code ~ '^Z[0-9]{4}$'".to_string()];
    let codes: Vec<u32> = (1..=n).collect();
    for chunk in codes.chunks(10) {
        let drops: Vec<String> = chunk.iter().map(|i| format!("t_z{i:04}")).collect();
        statements.push(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            drops.join(", ")
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    for s in SERVICES {
        crate::psql(
            &format!("tessera_{}", s.name.replace('-', "_")),
            &statements,
        )?;
    }
    crate::infra::set_aside_broker_storage()
}

/// The proxy in front of every service: the usual instance and the `-next` one.
fn start_proxy(profile: Profile) -> Result<(), String> {
    let mut cmd = Command::new(root().join(profile.dir()).join("tessera-proxy"));
    for s in SERVICES {
        let (u, n) = (s.usual(), s.next());
        cmd.arg("--route").arg(format!(
            "{}=127.0.0.1:{}=127.0.0.1:{}@127.0.0.1:{},127.0.0.1:{}@127.0.0.1:{}",
            s.name,
            s.port + PROXY_OFFSET,
            u.port,
            u.management_port,
            n.port,
            n.management_port
        ));
    }
    let log =
        std::fs::File::create(state_dir().join("logs/proxy.log")).map_err(|e| e.to_string())?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .spawn()
        .map_err(|e| format!("starting tessera-proxy: {e}"))?;
    std::fs::write(state_dir().join("proxy.pid"), child.id().to_string())
        .map_err(|e| e.to_string())?;
    let port = SERVICES[0].port + PROXY_OFFSET;
    wait_for("tessera-proxy", Duration::from_secs(10), || {
        crate::port_open(port)
    })?;
    Ok(())
}

/// Stops the proxy; what it counted, one JSON object per route.
fn stop_proxy() -> Vec<serde_json::Value> {
    let _ = instance::terminate("proxy", Duration::from_secs(10));
    std::fs::read_to_string(state_dir().join("logs/proxy.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `platform.json` with every service's URL on the port `port` gives it, written to `file`.
fn platform_on(port: impl Fn(&platform::Service) -> u16, file: &str) -> Result<String, String> {
    let path = state_dir().join("platform.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    for s in SERVICES {
        v["services"][s.name]["url"] = format!("http://127.0.0.1:{}", port(s)).into();
    }
    let out = state_dir().join(file);
    std::fs::write(&out, v.to_string()).map_err(|e| e.to_string())?;
    Ok(display(&out))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
