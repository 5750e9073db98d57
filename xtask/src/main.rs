//! `cargo xtask <task>`:
//! - `up`: install what is missing (protoc, the tansu broker), start PostgreSQL, Redis and the
//!   broker if they are not running, create databases, build and start every service, onboard
//!   the demo trusts, and print (and write to `.tessera/platform.json`) URLs and tokens.
//! - `down`: stop what `up` started (services and broker; PostgreSQL and Redis are the
//!   machine's and stay).
//! - `broker-rebuild`: stop the platform, move the local broker's storage aside, and `up`
//!   again with a fresh broker, when its storage cannot be recovered (`up` says when);
//!   services re-create their topics and republish what they had not yet published (ADR 19).
//! - `soak`: `up --release`, then `tessera-load` for a chosen time and rate, printing
//!   throughput, latency, errors, broker health, outbox backlog and audit-store lag.
//! - `fault <mpi|access|referrals|scheduling|pas|broker>`: `up`, the load, one `kill -9` of the target at a
//!   random moment and its restart, then the invariant checker (issue 14).
//! - `upgrade [--from COMMIT]`: the platform at the last release (`release/LAST`) behind the
//!   local round-robin, the load, each service replaced by this checkout's build as
//!   Kubernetes rolls a Deployment, then the invariant checker (issue 14, docs/releases.md).
//! - `floor [--seconds N] [--connections C]`: pgbench doing an audited patient read's
//!   statements on the same PostgreSQL (`soak --floor` runs it after the soak, as a ratio).
//! - `test`: the same infrastructure, then formatting, clippy, every test, and the Helm checks.
//!   `.ci/run` runs exactly this.
//!
//! Every task is idempotent.
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod contract;
mod fault;
mod floor;
mod infra;
mod instance;
mod platform;
mod soak;
mod upgrade;

/// Tests that load the whole platform, run after the others with nothing beside them.
/// The broker-outage test with a restart too: beside 170 other tests its timings are the
/// machine's, not the platform's; and the clinical documentation end to end, which starts
/// all six services and waits for each one's projections, and the regional record's, which
/// starts all seven. And the end-to-end tests that assert a propagation time ("enforced by
/// the MPI within 2 s"): beside the heaviest tests on two cores they measured the machine
/// (a CI run failed one at 2 s while a 100-writer concurrency test ran beside it).
const ALONE: &str =
    "test(ten_thousand_mixed_requests) | test(a_broker_outage_with_a_service_restart) \
     | binary(clinical_docs) | binary(region) \
     | (package(tessera-e2e) & (binary(access) | binary(referrals) | binary(scheduling)))";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Every broker this command starts is the local one, tansu 0.6.0, which fails on the
    // idempotent-producer path: the admin tool and the services it starts produce without it
    // (ADR 19; consumers de-duplicate through their inbox).
    std::env::set_var("TESSERA_KAFKA__IDEMPOTENCE", "false");
    let result = match args.first().map(String::as_str) {
        Some("up") => platform::up(platform::Profile::from_args(&args[1..])),
        // The services are restarted too: librdkafka 2.12 can crash when a client that knew
        // the old broker's topics meets a wiped tansu (ADR 19).
        Some("broker-rebuild") => platform::down()
            .and_then(|()| infra::set_aside_broker_storage())
            .and_then(|()| platform::up(platform::Profile::from_args(&args[1..]))),
        Some("soak") => soak::soak(&args[1..]),
        Some("fault") => fault::fault(&args[1..]),
        Some("upgrade") => upgrade::upgrade(&args[1..]),
        Some("floor") => floor::floor(&args[1..]),
        // After an interrupted `upgrade --tenants N`: what the run would have removed.
        Some("forget-test-trusts") => {
            platform::down().and_then(|()| upgrade::forget_test_trusts(200))
        }
        Some("down") => platform::down(),
        Some("test") => test(&args[1..]),
        Some("infra") => infra::ensure_all().map(|_| ()),
        // schemathesis against the platform `up` started.
        Some("contract") => infra::ensure_all().and_then(|tools| {
            let platform = std::fs::read_to_string(root().join(".tessera/platform.json"))
                .map_err(|e| format!("no platform (run cargo xtask up): {e}"))?;
            let platform = serde_json::from_str(&platform).map_err(|e| e.to_string())?;
            contract::run(&tools.python, &platform)
        }),
        _ => {
            eprintln!(
                "usage: cargo xtask up [--release] | down | test [nextest filters] | soak [--seconds N] [--connections C] [--rate R] [--debug] | fault <target> | upgrade [--from COMMIT] [--seconds N] [--tenants N] | floor | broker-rebuild [--release] | infra | contract"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `name` in a task's arguments (`--seconds 60`).
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Runs each statement, each in its own transaction, on `database` of the local PostgreSQL,
/// stopping at the first error; what they printed, unaligned.
pub fn psql(database: &str, statements: &[&str]) -> Result<String, String> {
    let mut args = vec!["-qAt", "-h", "127.0.0.1", "-U", "postgres", "-d", database];
    args.extend(["-v", "ON_ERROR_STOP=1"]);
    for s in statements {
        args.extend(["-c", s]);
    }
    output("psql", &args).ok_or_else(|| format!("psql on {database} failed"))
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn state_dir() -> PathBuf {
    root().join(".tessera")
}

/// Runs a command in the repository root, inheriting output; returns whether it succeeded.
pub fn run(program: &str, args: &[&str]) -> bool {
    println!("$ {program} {}", args.join(" "));
    Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs a command quietly; returns its stdout when it succeeded.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

pub fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

pub fn wait_for(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "{what} did not come up within {}s",
        timeout.as_secs()
    ))
}

fn test(filters: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let tools = infra::ensure_tools_and_databases()?;
    infra::forget_test_tenants()?;
    let broker = infra::TestBroker::start(&tools.tansu)?;
    std::env::set_var("TESSERA_TEST_KAFKA", format!("127.0.0.1:{}", broker.port));
    // The broker-outage test starts a private broker with the same binary.
    std::env::set_var("TESSERA_TANSU", &tools.tansu);
    // Every FHIR response the services give during the tests, for an independent parser.
    let capture = root().join("target/fhir-responses");
    let _ = std::fs::remove_dir_all(&capture);
    std::env::set_var("TESSERA_FHIR_CAPTURE", &capture);
    let mut failed = Vec::new();
    let mut step = |name: &str, ok: bool| {
        println!("== {name}: {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(name.to_string());
        }
    };
    step("rustfmt", run("cargo", &["fmt", "--all", "--", "--check"]));
    step(
        "clippy",
        run(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    // The development identity provider is never compiled into a service (issue "One
    // service shape"): the services' normal dependency tree has no `dev-idp` feature.
    step(
        "no dev identity provider in production builds",
        output(
            "cargo",
            &[
                "tree",
                "-p",
                "tessera-mpi",
                "-p",
                "tessera-access-service",
                "-p",
                "tessera-referrals",
                "-p",
                "tessera-scheduling",
                "-p",
                "tessera-pas",
                "-p",
                "tessera-clinical-docs",
                "-p",
                "tessera-region",
                "-e",
                "normal",
                "-i",
                "tessera-access",
                "-f",
                "{p} {f}",
            ],
        )
        .is_some_and(|tree| tree.contains("tessera-access") && !tree.contains("dev-idp")),
    );
    let everything = filters.is_empty();
    let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
    let tests_ok = if output("cargo", &["nextest", "--version"]).is_some() {
        if filters.is_empty() {
            // Load tests run on their own after the rest: they fill the one broker and the
            // database, and every other test's timing would suffer (or theirs would).
            let rest = format!("not ({ALONE})");
            let first = run(
                "cargo",
                &[
                    "nextest",
                    "run",
                    "--workspace",
                    "--no-fail-fast",
                    "-E",
                    &rest,
                ],
            );
            // On a broker of their own, fresh: tansu 0.6.0 slows with every topic and group
            // the other tests left, and a consumer that misses its session under load may get
            // no partitions back (a bug fixed after 0.6.0).
            let alone = match infra::TestBroker::start(&tools.tansu) {
                Ok(own) => {
                    std::env::set_var("TESSERA_TEST_KAFKA", format!("127.0.0.1:{}", own.port));
                    let ok = run(
                        "cargo",
                        &[
                            "nextest",
                            "run",
                            "--workspace",
                            "--no-fail-fast",
                            // One at a time: each starts up to seven services with their
                            // database pools; two at once passed PostgreSQL's 100 connections.
                            "--test-threads",
                            "1",
                            "-E",
                            ALONE,
                        ],
                    );
                    std::env::set_var("TESSERA_TEST_KAFKA", format!("127.0.0.1:{}", broker.port));
                    ok
                }
                Err(e) => {
                    eprintln!("{e}");
                    false
                }
            };
            first && alone
        } else {
            let mut args = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
            args.extend(filters);
            run("cargo", &args)
        }
    } else {
        let mut args = vec!["test", "--workspace", "--no-fail-fast"];
        args.extend(filters);
        run("cargo", &args)
    };
    step("tests", tests_ok);
    drop(broker);
    std::env::remove_var("TESSERA_FHIR_CAPTURE");
    if capture.exists() {
        step(
            "FHIR responses (fhir.resources R4B)",
            run(
                &tools.python,
                &[
                    "tests/fhir/check_responses.py",
                    &capture.display().to_string(),
                ],
            ),
        );
        step(
            "error codes documented (docs/contracts/api-errors.md)",
            run(
                &tools.python,
                &[
                    "tests/contracts/check_error_codes.py",
                    &capture.display().to_string(),
                    "docs/contracts/api-errors.md",
                ],
            ),
        );
    }
    step(
        "helm charts",
        run(&tools.python, &["tests/helm/check_charts.py"]),
    );
    step(
        "monitoring: dashboards generated, alert rules checked and unit-tested by promtool, a runbook per alert",
        run(&tools.python, &["tests/monitoring/check_monitoring.py"]),
    );
    if everything {
        // A short soak on the platform `up` starts (debug builds, already built by the
        // tests): no 5xx, no broker failure, backlogs drained, chains intact (issue 11).
        let soaked = soak::soak_and_check(&[
            "--debug".into(),
            "--seconds".into(),
            "90".into(),
            "--connections".into(),
            "8".into(),
        ]);
        if let Err(e) = &soaked {
            eprintln!("{e}");
        }
        // A crash under load: the MPI killed with `kill -9` at a random moment and restarted,
        // then the invariant checker (issue 14). Gating.
        let crashed = fault::fault(&[
            "mpi".into(),
            "--debug".into(),
            "--seconds".into(),
            "30".into(),
        ]);
        if let Err(e) = &crashed {
            eprintln!("{e}");
        }
        // The contract, by a client nobody here wrote, on the same platform.
        let platform_json = std::fs::read_to_string(root().join(".tessera/platform.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null);
        let contract = contract::run(&tools.python, &platform_json);
        if let Err(e) = &contract {
            eprintln!("{e}");
        }
        // A rolling upgrade under load, from the last release to this checkout, each service
        // in turn behind the local round-robin; then the checker (issue 14). Gating.
        let upgraded = upgrade::upgrade(&["--seconds".into(), "75".into()]);
        if let Err(e) = &upgraded {
            eprintln!("{e}");
        }
        let _ = platform::down();
        step(
            "schemathesis (no findings: server errors, undocumented answers, schema errors)",
            contract.is_ok(),
        );
        if let Err(e) = &contract {
            println!("   {e}");
        }
        step(
            "rolling upgrade of every service under load from release/LAST: no failed request, invariant checker clean",
            upgraded.is_ok(),
        );
        // Reported, not yet gating: it runs on the machine's long-lived development
        // databases and broker, whose history (an earlier run's backlog) can fail it for
        // reasons that are not the change's. To gate once it runs on state of its own.
        println!(
            "== short soak: {} (reported, not gating)",
            if soaked.as_ref().is_ok_and(|s| s.load_ok) {
                "ok"
            } else {
                "FAILED"
            }
        );
        step(
            "kill -9 of the MPI under load, restarted: invariant checker clean",
            crashed.is_ok(),
        );
        // What must hold whatever the load met: gating (issue 14).
        step(
            "invariant checker after the short soak (nothing acknowledged lost or doubled, no patient lost, outboxes published, one audit record per request, chains intact)",
            soaked.is_ok_and(|s| s.checker_clean),
        );
    }
    println!("== took {}s", started.elapsed().as_secs());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
    }
}
