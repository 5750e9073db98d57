//! The processes of the local platform: one instance of a service started, waited for until
//! ready, killed (a crash) and restarted (as the kubelet restarts a crashed container).
use crate::platform::{mllp_port, Profile, Service, DEMO_TRUSTS, SERVICES};
use crate::{port_open, root, run, state_dir, wait_for};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One running copy of a service: the usual one (`mpi`, on the ports of config/mpi.toml) or
/// the one a rolling upgrade starts beside it (`mpi-next`, on ports 100 higher), with the
/// environment that moves it there.
pub struct Instance {
    pub name: String,
    pub port: u16,
    pub management_port: u16,
    pub env: Vec<(String, String)>,
}

impl Service {
    pub fn usual(&self) -> Instance {
        Instance {
            name: self.name.to_string(),
            port: self.port,
            management_port: self.management_port,
            env: Vec::new(),
        }
    }

    /// Beside the usual instance: its own HTTP, management and (for the MPI) MLLP ports.
    pub fn next(&self) -> Instance {
        let (port, management_port) = (self.port + 100, self.management_port + 100);
        let mut env = vec![
            ("TESSERA_HTTP__PORT".to_string(), port.to_string()),
            (
                "TESSERA_HTTP__MANAGEMENT_PORT".to_string(),
                management_port.to_string(),
            ),
        ];
        if self.name == "mpi" {
            let listeners: Vec<String> = DEMO_TRUSTS
                .iter()
                .map(|(ods, _)| format!("{{tenant=\"{ods}\",port={}}}", mllp_port(ods) + 100))
                .collect();
            env.push((
                "TESSERA_HL7__LISTENERS".to_string(),
                format!("[{}]", listeners.join(",")),
            ));
        }
        Instance {
            name: format!("{}-next", self.name),
            port,
            management_port,
            env,
        }
    }
}

/// Whether process `pid` has exited: gone from `/proc`, or a zombie waiting for its parent to
/// reap it (when `down` runs in the process that started it, as `soak` and `test` do).
pub fn exited(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `pid (comm) S ...`: the state follows the command name's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// GET on 127.0.0.1: the status code and the body, or `None` when nothing answers.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Starts `instance` of `s` from the binary in `bin_dir`; its pid in `<instance>.pid`, its
/// output in `logs/<instance>.log`.
pub fn start(s: &Service, bin_dir: &std::path::Path, instance: &Instance) -> Result<(), String> {
    let log = std::fs::File::create(state_dir().join(format!("logs/{}.log", instance.name)))
        .map_err(|e| e.to_string())?;
    // A service an earlier release did not have runs from this checkout's build (of the
    // same profile: `target/releases/<commit>-release` pairs with `target/release`).
    let bin = match bin_dir.join(s.binary) {
        b if b.exists() => b,
        _ if bin_dir.to_string_lossy().ends_with("release") => {
            crate::root().join("target/release").join(s.binary)
        }
        _ => crate::root().join("target/debug").join(s.binary),
    };
    let child = Command::new("setsid")
        .arg(bin)
        .envs(instance.env.iter().map(|(k, v)| (k, v)))
        .current_dir(root())
        .env(
            "TESSERA_CONFIG",
            root().join(format!("config/{}.toml", s.name)),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", s.name))?;
    std::fs::write(
        state_dir().join(format!("{}.pid", instance.name)),
        child.id().to_string(),
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The pid an instance's pid file names.
fn pid_of(name: &str) -> Result<String, String> {
    std::fs::read_to_string(state_dir().join(format!("{name}.pid")))
        .map(|p| p.trim().to_string())
        .map_err(|e| format!("{name}.pid: {e}"))
}

/// Waits until the instance says every demo trust is ready. When it does not — or exits
/// first — says what its `/readyz` last answered and how its log ends: the cause, not only
/// the timeout.
pub fn wait_ready(s: &Instance) -> Result<(), String> {
    wait_ready_within(s, Duration::from_secs(90))
}

/// [`wait_ready`] with its own time limit (a service provisioning 200 schemas).
pub fn wait_ready_within(s: &Instance, limit: Duration) -> Result<(), String> {
    let pid = pid_of(&s.name)?;
    let mut last = None;
    let mut gone = false;
    let waited = wait_for(&format!("{} readiness", s.name), limit, || {
        last = http_get(s.management_port, "/readyz");
        gone = exited(&pid);
        gone || last.as_ref().is_some_and(|(status, body)| {
            *status == 200
                && DEMO_TRUSTS
                    .iter()
                    .all(|(t, _)| body.contains(&format!("\"{t}\":{{\"state\":\"ready\"")))
        })
    });
    let failed = match (waited, gone) {
        (Ok(()), false) => return Ok(()),
        (_, true) => format!("{} (pid {pid}) exited before it was ready", s.name),
        (Err(e), false) => e,
    };
    match &last {
        Some((status, body)) => eprintln!("{} /readyz answered {status}: {body}", s.name),
        None => eprintln!(
            "{} /readyz: nothing answers on :{}",
            s.name, s.management_port
        ),
    }
    let log = state_dir().join(format!("logs/{}.log", s.name));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("last lines of {}:", log.display());
    for line in &lines[lines.len().saturating_sub(40)..] {
        eprintln!("  {line}");
    }
    Err(failed)
}

/// Waits until the instance has provisioned every trust it knows (readiness no longer says so
/// once it has served: a trust onboarded later is provisioned while it serves).
pub fn wait_all_provisioned(s: &Instance, limit: Duration) -> Result<(), String> {
    wait_for(
        &format!("{} to provision every trust", s.name),
        limit,
        || {
            http_get(s.management_port, "/readyz").is_some_and(|(status, body)| {
                status == 200
                    && !body.contains("\"state\":\"provisioning\"")
                    && !body.contains("\"state\":\"failed\"")
            })
        },
    )
}

/// Waits until every service is ready for every demo trust.
pub fn wait_all_ready() -> Result<(), String> {
    SERVICES.iter().try_for_each(|s| wait_ready(&s.usual()))
}

/// Sends SIGTERM to the instance named `name` (by its pid file) and waits up to `limit` for
/// it to exit; the pid file is removed either way. `Ok(false)`: no pid file, nothing to stop.
pub fn terminate(name: &str, limit: Duration) -> Result<bool, String> {
    let Ok(pid) = pid_of(name) else {
        return Ok(false);
    };
    let stopped = if run("kill", &["-TERM", &pid]) {
        wait_for(&format!("{name} to exit"), limit, || exited(&pid))
    } else {
        Ok(()) // already gone
    };
    let _ = std::fs::remove_file(state_dir().join(format!("{name}.pid")));
    stopped
        .map(|()| true)
        .map_err(|e| format!("{e} (pid {pid})"))
}

/// Kills a service with SIGKILL (no draining: a crash), by its pid file, and waits until
/// its ports are free. A killed process that its parent has not reaped shows as a zombie
/// while another of its threads may still hold its sockets; the next instance binds the
/// same ports here (a pod gets an address of its own).
pub fn kill(name: &str) -> Result<(), String> {
    let s = service(name)?;
    let pid = pid_of(name)?;
    if !run("kill", &["-KILL", &pid]) {
        return Err(format!("kill -9 {name} ({pid}) failed"));
    }
    wait_for(name, Duration::from_secs(10), || exited(&pid))?;
    wait_for(
        &format!("{name}'s ports to be free"),
        Duration::from_secs(10),
        || !port_open(s.port) && !port_open(s.management_port),
    )
}

fn service(name: &str) -> Result<&'static Service, String> {
    SERVICES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no service {name}"))
}

/// Starts a service again, as the kubelet restarts a crashed container: when the new
/// process exits before it is ready, it is started again after a back-off (three tries).
pub fn restart(name: &str, profile: Profile) -> Result<(), String> {
    let s = service(name)?;
    let mut backoff = Duration::from_secs(1);
    let mut tries = 0;
    loop {
        tries += 1;
        start(s, &root().join(profile.dir()), &s.usual())?;
        match wait_ready(&s.usual()) {
            Ok(()) => return Ok(()),
            Err(e) if tries < 3 && exited(&pid_of(name)?) => {
                eprintln!("{e}; starting it again in {} s", backoff.as_secs());
                std::thread::sleep(backoff);
                backoff *= 2;
            }
            Err(e) => return Err(e),
        }
    }
}
