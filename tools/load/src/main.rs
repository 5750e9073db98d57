//! `tessera-load`: see the crate documentation (`src/lib.rs`).
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "tessera-load",
    about = "Drive the running platform and watch its backlogs"
)]
struct Cli {
    /// What `cargo xtask up` wrote.
    #[arg(long, default_value = ".tessera/platform.json")]
    platform: std::path::PathBuf,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Requests a second in all; 0: as fast as the platform answers.
    #[arg(long, default_value_t = 0)]
    rate: u32,
    #[arg(long, default_value_t = 10)]
    report_every: u64,
    #[arg(long, default_value_t = 50)]
    seed_patients: usize,
    /// Seconds to wait after the load for the backlogs to drain.
    #[arg(long, default_value_t = 120)]
    settle: u64,
    /// Write the report as JSON here.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Save the journal of writes here (for `--check`).
    #[arg(long)]
    journal: Option<std::path::PathBuf>,
    /// Do not load: run the invariant checker against this journal and the platform.
    #[arg(long)]
    check: Option<std::path::PathBuf>,
    /// With `--check`: `service=N`, requests a proxy resent to another instance of the service
    /// (`cargo xtask upgrade` passes what `tessera-proxy` counted).
    #[arg(long, value_parser = parse_resent)]
    resent: Vec<(String, u64)>,
}

fn parse_resent(s: &str) -> Result<(String, u64), String> {
    let (service, n) = s.split_once('=').ok_or("expected service=N")?;
    Ok((service.to_string(), n.parse().map_err(|_| "N: a number")?))
}

/// Runs the invariant checker and prints what it found; fails when it found anything.
async fn check(
    platform: &std::path::Path,
    journal: &std::path::Path,
    resent: &[(String, u64)],
) -> ExitCode {
    let resent = resent.iter().cloned().collect();
    match tessera_load::check::run(platform, journal, &resent).await {
        Ok(report) => {
            println!("{}", report.render());
            if report.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tessera-load --check: {e}");
            ExitCode::from(2)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(journal) = &cli.check {
        return check(&cli.platform, journal, &cli.resent).await;
    }
    let cfg = tessera_load::LoadConfig {
        platform: cli.platform,
        duration: Duration::from_secs(cli.seconds),
        connections: cli.connections.max(1),
        rate: cli.rate,
        report_every: Duration::from_secs(cli.report_every.max(1)),
        seed_patients: cli.seed_patients.max(1),
        settle: Duration::from_secs(cli.settle),
        journal: cli.journal.clone(),
    };
    let report = match tessera_load::run(cfg).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera-load: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{}", tessera_load::render(&report));
    if let Some(path) = cli.out {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("tessera-load: writing {}: {e}", path.display());
        }
    }
    let failures = report.failures();
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("tessera-load: FAILED: {}", failures.join("; "));
        ExitCode::FAILURE
    }
}
