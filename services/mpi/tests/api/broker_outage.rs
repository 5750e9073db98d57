//! Registration while the broker is down still answers 201; the event is delivered once the
//! broker is back. Uses a private broker process, so other tests keep theirs.
use crate::helpers::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tessera_tenancy::KafkaSettings;
use tessera_testkit as kit;

struct PrivateBroker {
    child: Child,
}

fn tansu() -> String {
    std::env::var("TESSERA_TANSU").unwrap_or_else(|_| "tansu".into())
}

impl PrivateBroker {
    fn start(port: u16, dir: &std::path::Path) -> Self {
        let url = format!("tcp://127.0.0.1:{port}");
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
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu is installed (cargo xtask test installs it)");
        let broker = Self { child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return broker;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        broker.kill();
        panic!("private broker did not start on {port}");
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_registration_during_a_broker_outage_is_accepted_and_its_event_delivered_later() {
    let dir = std::env::temp_dir().join(format!("tessera-broker-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let broker = PrivateBroker::start(port, &dir);
    let kafka = KafkaSettings {
        brokers: format!("127.0.0.1:{port}"),
        ..kit::kafka()
    };
    let tenant = kit::unique_ods();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let config = test_config(std::slice::from_ref(&tenant), &idp, &kafka).await;
    let app = TestApp::start(config, vec![tenant.clone()], idp, kafka.clone()).await;

    broker.kill();
    let r = app.register(&app.clerk(0), &jane(Some("9434765919"))).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // It waits in the outbox while the broker is away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {}.outbox WHERE msg_key = '{id}' AND topic LIKE '%.mpi.patient'",
            app.schema(0)
        ))
        .await,
        1
    );

    let broker = PrivateBroker::start(port, &dir);
    let topic = format!("tessera.{}.mpi.patient", tenant.to_lowercase());
    let msgs = kit::read_topic(&kafka, &topic, 1, Duration::from_secs(45)).await;
    let mine: Vec<_> = msgs
        .iter()
        .filter(|m| m.key.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(mine.len(), 1, "delivered exactly once after the outage");
    assert!(
        kit::wait_until(Duration::from_secs(10), || async {
            app.scalar(&format!(
                "SELECT count(*) AS n FROM {}.outbox",
                app.schema(0)
            ))
            .await
                == 0
        })
        .await
    );
    app.stop().await;
    broker.kill();
}
