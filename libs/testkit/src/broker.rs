//! A broker process of a test's own (the same tansu binary `cargo xtask test` uses), on a
//! free port with its own storage, which the test may kill, restart on the same storage, or
//! wipe — what the broker-outage tests do to the platform.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tessera_tenancy::KafkaSettings;

pub struct PrivateBroker {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
}

fn tansu() -> String {
    std::env::var("TESSERA_TANSU").unwrap_or_else(|_| "tansu".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateBroker {
    /// A fresh broker on a free port.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-broker-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut b = Self {
            child: None,
            port: free_port(),
            dir,
        };
        b.restart();
        b
    }

    /// Settings for this broker: the test tenants topic, as [`crate::kafka`].
    pub fn kafka(&self) -> KafkaSettings {
        KafkaSettings {
            brokers: format!("127.0.0.1:{}", self.port),
            ..crate::kafka()
        }
    }

    /// Starts it again on the same port and storage (a no-op while it runs).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            return;
        }
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("tansu.log"))
            .unwrap();
        let child = Command::new(tansu())
            .args([
                "broker",
                "--storage-engine",
                "sqlite://tansu.db",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .current_dir(&self.dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("tansu is installed (cargo xtask test installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("private broker did not start on {}", self.port);
    }

    /// Kills it (SIGKILL, as a crash); its storage stays.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills it and deletes its storage: the next `restart` is a broker with no topics, no
    /// records and no consumer groups.
    pub fn wipe(&mut self) {
        self.kill();
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if entry.file_name() != "tansu.log" {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl PrivateBroker {
    /// Moves it to a new free port (while stopped): a fresh broker at a new address. Tests
    /// that restart services in-process use it after a wipe, so that clients of the stopped
    /// services that are still closing never meet the new broker (in production the old
    /// processes are gone).
    pub fn move_to_new_port(&mut self) {
        self.kill();
        self.port = free_port();
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
