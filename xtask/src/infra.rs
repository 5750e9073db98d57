//! Installing and starting what the platform and its tests need, on a fresh machine or a warm
//! one: protoc, the tansu broker, a Python venv for the Helm checks, PostgreSQL, Redis, the
//! broker process, and the databases.
use crate::{output, port_open, root, run, state_dir, wait_for};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const BROKER_PORT: u16 = 9092;
pub const DATABASES: &[&str] = &[
    "tessera_mpi",
    "tessera_mpi_test",
    "tessera_events_test",
    "tessera_access",
    "tessera_access_test",
    "tessera_referrals",
    "tessera_referrals_test",
    "tessera_scheduling",
    "tessera_scheduling_test",
    "tessera_pas",
    "tessera_pas_test",
    "tessera_clinical_docs",
    "tessera_clinical_docs_test",
    "tessera_region",
    "tessera_region_test",
];
const TANSU_VERSION: &str = "0.6.0";

pub struct Tools {
    pub tansu: String,
    pub python: String,
}

/// Everything the platform needs, including the long-lived local broker on 9092.
pub fn ensure_all() -> Result<Tools, String> {
    let tools = ensure_tools_and_databases()?;
    ensure_broker(&tools.tansu)?;
    Ok(tools)
}

/// Each test run starts a fresh broker, so the tenants the services recorded in the test
/// databases in earlier runs (ADR 19) belong to no broker now: forget them, or every test
/// service would provision every test tenant of every earlier run.
pub fn forget_test_tenants() -> Result<(), String> {
    for db in DATABASES.iter().filter(|d| d.ends_with("_test")) {
        let sql = "DO $$ BEGIN IF to_regclass('platform.tenant_registry') IS NOT NULL \
                   THEN DELETE FROM platform.tenant_registry; END IF; END $$";
        if output(
            "psql",
            &["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql],
        )
        .is_none()
        {
            return Err(format!("could not clear the recorded test tenants in {db}"));
        }
    }
    Ok(())
}

/// A real round trip through the local broker (`tessera-admin broker-probe`).
fn probe_broker() -> Result<String, String> {
    let bin = root().join("target/debug/tessera-admin");
    let out = Command::new(bin)
        .args(["broker-probe", "--timeout-seconds", "10", "--brokers"])
        .arg(format!("127.0.0.1:{BROKER_PORT}"))
        .output()
        .map_err(|e| format!("running tessera-admin broker-probe: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The local broker answers a produce-and-fetch; if not, it is restarted once; if it still
/// does not, its storage is beyond repair here and the error says how to rebuild it.
/// (Needs `tessera-admin` built.)
pub fn ensure_healthy_broker() -> Result<(), String> {
    let tansu = ensure_tansu()?;
    ensure_broker(&tansu)?;
    let first = match probe_broker() {
        Ok(ok) => {
            println!("{ok}");
            return Ok(());
        }
        Err(e) => e,
    };
    println!("the broker is not answering ({first}); restarting it");
    stop_broker();
    ensure_broker(&tansu)?;
    let mut last = String::new();
    for _ in 0..3 {
        match probe_broker() {
            Ok(ok) => {
                println!("{ok}");
                return Ok(());
            }
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let log = state_dir().join("tansu.log");
    let panicked = std::fs::read_to_string(&log)
        .map(|l| l.contains("panicked"))
        .unwrap_or(false);
    Err(format!(
        "the local broker does not work after a restart ({last}){}.\n\
         Its storage, {}, cannot be recovered here. Rebuild it with:\n\n    cargo xtask broker-rebuild\n\n\
         That moves the storage aside and starts a fresh broker; the services re-create their topics \
         and republish every event still in their outboxes (docs/runbooks/broker-outage.md).",
        if panicked {
            format!("; it panicked, see {}", log.display())
        } else {
            String::new()
        },
        state_dir().join("tansu").display()
    ))
}

/// Stops the local broker started by `up` (by its pid file).
pub fn stop_broker() {
    let pid_file = state_dir().join("tansu.pid");
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let pid = pid.trim().to_string();
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        let _ = wait_for("the broker to stop", Duration::from_secs(10), || {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        let _ = std::fs::remove_file(pid_file);
    }
    let _ = wait_for("the broker port to close", Duration::from_secs(10), || {
        !port_open(BROKER_PORT)
    });
}

/// `cargo xtask broker-rebuild`'s middle step (between stopping and starting the platform):
/// the broken storage is kept aside, never deleted, so the next start is a fresh broker.
pub fn set_aside_broker_storage() -> Result<(), String> {
    stop_broker();
    let dir = state_dir().join("tansu");
    if dir.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let aside = state_dir().join(format!("tansu.broken-{stamp}"));
        std::fs::rename(&dir, &aside).map_err(|e| format!("moving the old storage aside: {e}"))?;
        println!("old broker storage kept at {}", aside.display());
    }
    Ok(())
}

/// Everything but a broker: tests start their own (see [`TestBroker`]).
pub fn ensure_tools_and_databases() -> Result<Tools, String> {
    ensure_protoc()?;
    ensure_chromium()?;
    ensure_promtool()?;
    let tansu = ensure_tansu()?;
    let python = ensure_venv()?;
    ensure_postgres()?;
    ensure_redis()?;
    ensure_databases()?;
    Ok(Tools { tansu, python })
}

/// A broker just for one test run: a free port, fresh storage, removed afterwards. Tests
/// never share the developer's broker (or its data, which slows tansu's sqlite fetches as it
/// grows), and a CI run never depends on what a previous session left running.
pub struct TestBroker {
    child: std::process::Child,
    pub port: u16,
    dir: PathBuf,
}

impl TestBroker {
    pub fn start(tansu: &str) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = state_dir().join(format!("test-broker-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("tansu.log")).map_err(|e| e.to_string())?;
        let child = tansu_command(tansu, tansu, &dir, port, log)?
            .spawn()
            .map_err(|e| format!("starting the test broker: {e}"))?;
        let broker = Self { child, port, dir };
        wait_for("the test broker", Duration::from_secs(30), || {
            port_open(port)
        })?;
        index_storage(&broker.dir)?;
        Ok(broker)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    let mut args = vec!["install", "-y", "-q"];
    args.extend_from_slice(packages);
    if run("apt-get", &args) {
        return Ok(());
    }
    if run("apt-get", &["update", "-q"]) && run("apt-get", &args) {
        return Ok(());
    }
    Err(format!(
        "could not install {} with apt-get (run as root?)",
        packages.join(" ")
    ))
}

fn ensure_protoc() -> Result<(), String> {
    if output("protoc", &["--version"]).is_some() {
        return Ok(());
    }
    apt_install(&["protobuf-compiler"])
}

/// Debian's Chromium and ChromeDriver, for the regional record page's browser test.
fn ensure_chromium() -> Result<(), String> {
    if std::path::Path::new("/usr/bin/chromedriver").exists()
        && std::path::Path::new("/usr/bin/chromium").exists()
    {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// Debian's Prometheus package, for `promtool check rules` / `test rules` over the alert rules
/// (its server is not started: only the tool is used).
fn ensure_promtool() -> Result<(), String> {
    if output("promtool", &["--version"]).is_some() {
        return Ok(());
    }
    apt_install(&["--no-install-recommends", "prometheus"])
}

fn tansu_path() -> Option<String> {
    if output("tansu", &["--version"]).is_some() {
        return Some("tansu".into());
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok()?;
    let p = home.join("bin/tansu");
    let s = p.display().to_string();
    output(&s, &["--version"]).map(|_| s)
}

fn ensure_tansu() -> Result<String, String> {
    if let Some(p) = tansu_path() {
        return Ok(p);
    }
    println!("installing the tansu broker {TANSU_VERSION} from crates.io (about 20 minutes on a fresh machine)");
    if !run(
        "cargo",
        &[
            "install",
            "tansu",
            "--version",
            TANSU_VERSION,
            "--locked",
            "--features",
            "libsql",
        ],
    ) {
        return Err("cargo install tansu failed".into());
    }
    tansu_path().ok_or_else(|| "tansu installed but not found on PATH or in ~/.cargo/bin".into())
}

fn ensure_venv() -> Result<String, String> {
    let venv = root().join(".venv");
    let python = venv.join("bin/python").display().to_string();
    let check = [
        "-c",
        "import helm_python, kubernetes_validate, fhir.resources.R4B, schemathesis",
    ];
    if output(&python, &check).is_some() {
        return Ok(python);
    }
    if !venv.join("bin/python").exists()
        && !run("python3", &["-m", "venv", &venv.display().to_string()])
    {
        return Err("python3 -m venv failed".into());
    }
    if !run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "-q",
            "helm-python-sdk==0.2.2",
            "kubernetes-validate==1.37.0",
            "fhir.resources==7.1.0",
            "schemathesis==4.32.5",
        ],
    ) {
        return Err("pip install of the Helm and FHIR check tools failed".into());
    }
    Ok(python)
}

fn ensure_postgres() -> Result<(), String> {
    let ready = || output("pg_isready", &["-h", "127.0.0.1", "-p", "5432"]).is_some();
    if ready() {
        autovacuum_on()?;
        return enough_connections();
    }
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .ok_or("PostgreSQL is not installed (no /etc/postgresql)")?;
    run(
        "pg_ctlcluster",
        &["--skip-systemctl-redirect", &version, "main", "start"],
    );
    wait_for("PostgreSQL", Duration::from_secs(30), ready)?;
    autovacuum_on()?;
    enough_connections()
}

/// The connections the tests need at once: two whole-platform tests (up to seven services,
/// each with its pool) beside service tests with pools of their own passed the machine's 100
/// (503 `dependency.unavailable` in CI). Production sizes its pools to its server; this raises
/// the local server's limit (ALTER SYSTEM, then a restart: the setting needs one).
fn enough_connections() -> Result<(), String> {
    const WANT: u32 = 300;
    let now: u32 = crate::psql("postgres", &["SHOW max_connections"])?
        .trim()
        .parse()
        .unwrap_or(0);
    if now >= WANT {
        return Ok(());
    }
    println!("PostgreSQL: max_connections {now} → {WANT} (ALTER SYSTEM, restart)");
    crate::psql(
        "postgres",
        &[&format!("ALTER SYSTEM SET max_connections = {WANT}")],
    )?;
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .ok_or("PostgreSQL is not installed (no /etc/postgresql)")?;
    run(
        "pg_ctlcluster",
        &["--skip-systemctl-redirect", &version, "main", "restart"],
    );
    wait_for("PostgreSQL", Duration::from_secs(30), || {
        output("pg_isready", &["-h", "127.0.0.1", "-p", "5432"]).is_some()
    })
}

/// Every production PostgreSQL vacuums and analyses; this machine's ships with autovacuum
/// off. Without it the outboxes (a queue: every row inserted, then deleted) bloat without
/// end, index-only scans read the heap, and plans are made from empty tables' statistics, so
/// a soak measures the missing maintenance rather than the platform (ADR 29).
fn autovacuum_on() -> Result<(), String> {
    if crate::psql("postgres", &["SHOW autovacuum"])?.trim() == "on" {
        return Ok(());
    }
    println!(
        "PostgreSQL: autovacuum was off; turning it on (ALTER SYSTEM, reload), as in production"
    );
    crate::psql(
        "postgres",
        &[
            "ALTER SYSTEM SET autovacuum = on",
            "SELECT pg_reload_conf()",
        ],
    )
    .map(|_| ())
}

fn ensure_redis() -> Result<(), String> {
    let ready = || {
        output("redis-cli", &["-h", "127.0.0.1", "-p", "6379", "ping"]).is_some_and(|o| o == "PONG")
    };
    if ready() {
        return Ok(());
    }
    let dir = state_dir().join("redis");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let d = dir.display().to_string();
    let log = dir.join("redis.log").display().to_string();
    run(
        "redis-server",
        &[
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &d,
            "--logfile",
            &log,
        ],
    );
    wait_for("Redis", Duration::from_secs(15), ready)
}

/// Starts the broker, detached, with durable sqlite storage under `.tessera/tansu`, and
/// gives its storage the index it lacks ([`index_storage`]).
fn ensure_broker(tansu: &str) -> Result<(), String> {
    let dir = state_dir().join("tansu");
    if port_open(BROKER_PORT) {
        // Ours (started by an earlier `up`) if its storage is here; another's is left alone.
        if dir.join("tansu.db").exists() {
            return index_storage(&dir);
        }
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(state_dir().join("tansu.log")).map_err(|e| e.to_string())?;
    // setsid: the broker outlives this command and a Ctrl-C in its terminal.
    let child = tansu_command("setsid", tansu, &dir, BROKER_PORT, log)?
        .spawn()
        .map_err(|e| format!("starting tansu: {e}"))?;
    std::fs::write(state_dir().join("tansu.pid"), child.id().to_string())
        .map_err(|e| e.to_string())?;
    wait_for("the tansu broker", Duration::from_secs(30), || {
        port_open(BROKER_PORT)
    })?;
    index_storage(&dir)
}

/// tansu 0.6.0's sqlite schema has no index on `header (topition, offset_id)`, and it reads
/// each fetched record's headers with a query that therefore scans every header ever stored:
/// a fetch's cost grows with the whole storage, and under load the broker spends itself in
/// those scans (ADR 19, docs/benchmarks/soak.md). The index is added to the broker's own
/// database once its schema exists (idempotent; tansu's `create table if not exists` leaves
/// it alone on restart).
pub fn index_storage(dir: &std::path::Path) -> Result<(), String> {
    const SCRIPT: &str = "import sqlite3, sys, time
for _ in range(150):
    c = sqlite3.connect(sys.argv[1], timeout=30)
    if c.execute(\"select 1 from sqlite_master where type='table' and name='header'\").fetchone():
        c.execute('create index if not exists tessera_header_record on header (topition, offset_id)')
        c.commit()
        sys.exit(0)
    c.close()
    time.sleep(0.2)
sys.exit('the broker storage has no header table after 30 s')";
    let db = dir.join("tansu.db").display().to_string();
    if output("python3", &["-c", SCRIPT, &db]).is_some() {
        Ok(())
    } else {
        Err(format!("could not index the broker's storage {db}"))
    }
}

fn ensure_databases() -> Result<(), String> {
    for db in DATABASES {
        let q = format!("SELECT 1 FROM pg_database WHERE datname = '{db}'");
        let exists = output("psql", &["-h", "127.0.0.1", "-U", "postgres", "-tAc", &q])
            .is_some_and(|o| o == "1");
        if !exists
            && !run(
                "psql",
                &[
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-qc",
                    &format!("CREATE DATABASE {db}"),
                ],
            )
        {
            return Err(format!("could not create database {db}"));
        }
    }
    Ok(())
}

/// A `tansu broker` command on 127.0.0.1:`port`, storing in `dir/tansu.db`, logging to `log`.
/// (tansu reads the sqlite URL's path relative to its working directory.)
fn tansu_command(
    program: &str,
    tansu: &str,
    dir: &std::path::Path,
    port: u16,
    log: std::fs::File,
) -> Result<Command, String> {
    let url = format!("tcp://127.0.0.1:{port}");
    let mut c = Command::new(program);
    if program != tansu {
        c.arg(tansu);
    }
    c.args([
        "broker",
        "--storage-engine",
        "sqlite://tansu.db",
        "--listener-url",
        &url,
        "--advertised-listener-url",
        &url,
    ])
    .current_dir(dir)
    .env_remove("RUST_LOG")
    .stdin(Stdio::null())
    .stdout(log.try_clone().map_err(|e| e.to_string())?)
    .stderr(log);
    Ok(c)
}
