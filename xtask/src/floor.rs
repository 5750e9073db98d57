//! `cargo xtask floor [--seconds N] [--connections C]`: the database doing the work of the
//! platform's commonest request — an audited patient read (`tools/load/pgbench/patient-read.sql`)
//! — with `pgbench`, on the same PostgreSQL, so a soak's throughput and p99 can be stated as a
//! ratio to it (`cargo xtask soak --floor` runs both in one go). Works on `bench`, a copy of
//! the RXR demo trust's MPI schema made for the run and dropped after it.
use crate::{psql, root, state_dir};

/// What pgbench measured.
pub struct Floor {
    pub tps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub transactions: usize,
}

/// The tables a patient read touches, copied with their indexes; the ones it reads with rows.
const TABLES: [(&str, bool); 9] = [
    ("patient", true),
    ("access_relationship", true),
    ("access_break_glass", true),
    ("access_seal", true),
    ("access_consent", true),
    ("access_team_member", true),
    ("access_projection_state", true),
    ("audit_log", false),
    ("outbox", false),
];

const DATABASE: &str = "tessera_mpi";

pub fn floor(args: &[String]) -> Result<(), String> {
    let value = |name: &str, default: &str| -> String {
        crate::arg(args, name).unwrap_or_else(|| default.to_string())
    };
    let f = measure(&value("--seconds", "60"), &value("--connections", "32"))?;
    println!(
        "floor (pgbench, audited patient read): {} transactions, {:.0} tps, p50 {:.1} ms, p99 {:.1} ms",
        f.transactions, f.tps, f.p50_ms, f.p99_ms
    );
    Ok(())
}

/// Copies the schema, runs pgbench for `seconds` with `connections` clients, drops the copy.
pub fn measure(seconds: &str, connections: &str) -> Result<Floor, String> {
    let mut setup = String::from("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;\n");
    for (table, with_rows) in TABLES {
        setup.push_str(&format!(
            "CREATE TABLE bench.{table} (LIKE t_rxr.{table} INCLUDING ALL);\n"
        ));
        if with_rows {
            setup.push_str(&format!(
                "INSERT INTO bench.{table} SELECT * FROM t_rxr.{table};\n"
            ));
        }
    }
    setup.push_str(
        "CREATE TABLE bench.patient_ids AS SELECT row_number() OVER () AS n, id FROM bench.patient;\n\
         CREATE UNIQUE INDEX ON bench.patient_ids (n); ANALYZE;\n",
    );
    psql(DATABASE, &[&setup])?;
    let ids = psql(DATABASE, &["SELECT count(*) FROM bench.patient_ids"])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| s != "0")
        .ok_or(
            "no patients in t_rxr to read: run a soak (or `cargo xtask up` and the load) first",
        )?;
    let logs = state_dir().join("pgbench");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let script = root().join("tools/load/pgbench/patient-read.sql");
    let prefix = logs.join("log").display().to_string();
    let ran = std::process::Command::new("pgbench")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared"])
        .args(["-c", connections, "-j", "2", "-T", seconds])
        .args([
            "-D",
            &format!("ids={ids}"),
            "-f",
            &script.display().to_string(),
        ])
        .args(["--log", &format!("--log-prefix={prefix}"), DATABASE])
        .env("PGOPTIONS", "-c search_path=bench")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let _ = psql(DATABASE, &["DROP SCHEMA IF EXISTS bench CASCADE"]);
    if !ran {
        return Err("pgbench failed".into());
    }
    summarise(&logs, seconds)
}

/// Reads pgbench's per-transaction logs (`client tx latency_us script_no epoch epoch_us`).
fn summarise(logs: &std::path::Path, seconds: &str) -> Result<Floor, String> {
    let mut latencies: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(logs).map_err(|e| e.to_string())? {
        let text = std::fs::read_to_string(entry.map_err(|e| e.to_string())?.path())
            .map_err(|e| e.to_string())?;
        latencies.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()),
        );
    }
    if latencies.is_empty() {
        return Err("pgbench logged no transaction".into());
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let secs: f64 = seconds.parse().map_err(|_| "--seconds: a number")?;
    Ok(Floor {
        tps: latencies.len() as f64 / secs,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        transactions: latencies.len(),
    })
}
