//! `tessera-admin`: what an operator (or `cargo xtask up`) does by hand.
//! - `idp-init` / `token`: the development identity provider (stands in for smartcard login).
//! - `onboard` / `suspend`: publish a tenant record to `tessera.platform.tenants`.
//! - `revoke`: put a session on the revoked list.
use clap::{Parser, Subcommand};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tessera_access::dev::{DevIdp, TokenRequest};
use tessera_proto::tenancy::v1::{TenantRecord, TenantStatus};
use tessera_tenancy::KafkaSettings;

#[derive(Parser)]
#[command(name = "tessera-admin", about = "Tessera operator CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the dev IdP's key and JWKS in DIR (kept if they exist).
    IdpInit {
        #[arg(long, default_value = ".tessera/idp")]
        dir: PathBuf,
        #[arg(long, default_value = "https://idp.tessera.local")]
        issuer: String,
        #[arg(long, default_value = "tessera")]
        audience: String,
    },
    /// Print a signed token for one selected role.
    Token {
        #[arg(long, default_value = ".tessera/idp")]
        dir: PathBuf,
        #[arg(long, default_value = "https://idp.tessera.local")]
        issuer: String,
        #[arg(long, default_value = "tessera")]
        audience: String,
        /// The role's organisation (the tenant).
        #[arg(long)]
        ods: String,
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// Job role R code.
        #[arg(long, default_value = "R8000")]
        role: String,
        /// Comma-separated activity codes.
        #[arg(long, default_value = "B0825")]
        activities: String,
        /// Comma-separated workgroups (teams) of the role.
        #[arg(long, default_value = "")]
        teams: String,
        #[arg(long, default_value_t = 12 * 3600)]
        ttl: i64,
    },
    /// Onboard trusts: publish an active tenant record for each ODS code given.
    Onboard {
        #[arg(required = true, num_args = 1..)]
        ods: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, env = "TESSERA_KAFKA__BROKERS", default_value = "127.0.0.1:9092")]
        brokers: String,
    },
    /// List the broker's topics.
    Topics {
        #[arg(long, env = "TESSERA_KAFKA__BROKERS", default_value = "127.0.0.1:9092")]
        brokers: String,
    },
    /// Write the raw payload of message OFFSET (default: the first) of TOPIC to stdout, for
    /// `protoc --decode`. Headers go to stderr.
    Tail {
        topic: String,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 0)]
        partition: i32,
        #[arg(long, env = "TESSERA_KAFKA__BROKERS", default_value = "127.0.0.1:9092")]
        brokers: String,
    },
    /// Send HL7 v2 messages (ER7; segments on lines or CR-separated; several messages separated
    /// by a blank line) from FILE, or stdin, over MLLP, and print each ACK.
    Hl7Send {
        /// host:port of the trust's MLLP listener.
        #[arg(long, default_value = "127.0.0.1:2575")]
        to: String,
        file: Option<String>,
    },
    /// A real round trip through the broker: produce one message and fetch it back. Exits 0
    /// and prints the time taken, or exits 1 saying what failed.
    BrokerProbe {
        #[arg(long, env = "TESSERA_KAFKA__BROKERS", default_value = "127.0.0.1:9092")]
        brokers: String,
        #[arg(long, default_value_t = 10)]
        timeout_seconds: u64,
    },
    /// Suspend a trust: its schema is kept, its requests refused.
    Suspend {
        #[arg(required = true, num_args = 1..)]
        ods: Vec<String>,
        #[arg(long, env = "TESSERA_KAFKA__BROKERS", default_value = "127.0.0.1:9092")]
        brokers: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::IdpInit {
            dir,
            issuer,
            audience,
        } => {
            DevIdp::load_or_create(&dir, &issuer, &audience).map_err(|e| e.to_string())?;
            println!("{}", dir.join("jwks.json").display());
        }
        Command::Token {
            dir,
            issuer,
            audience,
            ods,
            user,
            role,
            activities,
            teams,
            ttl,
        } => {
            let idp =
                DevIdp::load_or_create(&dir, &issuer, &audience).map_err(|e| e.to_string())?;
            let acts: Vec<&str> = activities
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            let teams: Vec<&str> = teams
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            let mut req = TokenRequest::new(&user, &ods, &role, &acts).in_teams(&teams);
            req.ttl_seconds = ttl;
            println!("{}", idp.token(&req).map_err(|e| e.to_string())?);
        }
        Command::Onboard { ods, name, brokers } => {
            for ods in ods {
                publish(&brokers, &ods, &name, TenantStatus::Active).await?
            }
        }
        Command::Suspend { ods, brokers } => {
            for ods in ods {
                publish(&brokers, &ods, "", TenantStatus::Suspended).await?
            }
        }
        Command::BrokerProbe {
            brokers,
            timeout_seconds,
        } => {
            let took = tessera_tenancy::probe::probe(
                &kafka_settings(&brokers),
                Duration::from_secs(timeout_seconds),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "broker ok: produced and fetched back in {} ms",
                took.as_millis()
            );
        }
        Command::Topics { brokers } => {
            let kafka = KafkaSettings {
                brokers,
                ..KafkaSettings::default()
            };
            let c: BaseConsumer = kafka
                .client_config()
                .set("group.id", "tessera-admin")
                .create()
                .map_err(|e| e.to_string())?;
            let md = c
                .fetch_metadata(None, Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            let mut names: Vec<_> = md
                .topics()
                .iter()
                .map(|t| format!("{} ({} partitions)", t.name(), t.partitions().len()))
                .collect();
            names.sort();
            let mut out = std::io::stdout().lock();
            for n in names {
                // A closed pipe (`| head`) ends the listing; it is not an error.
                if writeln!(out, "{n}").is_err() {
                    break;
                }
            }
        }
        Command::Hl7Send { to, file } => {
            use std::io::Read as _;
            let mut text = String::new();
            match file {
                Some(f) => text = std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?,
                None => {
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| e.to_string())?;
                }
            }
            let text = text.replace("\r\n", "\n");
            let mut stream = std::net::TcpStream::connect(&to).map_err(|e| format!("{to}: {e}"))?;
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .map_err(|e| e.to_string())?;
            for message in text.split("\n\n").map(str::trim).filter(|m| !m.is_empty()) {
                let er7 = message.lines().collect::<Vec<_>>().join("\r") + "\r";
                let mut framed = vec![0x0b];
                framed.extend_from_slice(er7.as_bytes());
                framed.extend_from_slice(&[0x1c, 0x0d]);
                stream.write_all(&framed).map_err(|e| e.to_string())?;
                let mut ack = Vec::new();
                let mut buf = [0u8; 4096];
                while !ack.ends_with(&[0x1c, 0x0d]) {
                    let n =
                        std::io::Read::read(&mut stream, &mut buf).map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("the listener closed the connection".into());
                    }
                    ack.extend_from_slice(&buf[..n]);
                }
                let ack = String::from_utf8_lossy(&ack);
                println!(
                    "{}",
                    ack.trim_matches(['\x0b', '\x1c', '\r']).replace('\r', "\n")
                );
            }
        }
        Command::Tail {
            topic,
            offset,
            partition,
            brokers,
        } => {
            let kafka = KafkaSettings {
                brokers,
                ..KafkaSettings::default()
            };
            let c: BaseConsumer = kafka
                .client_config()
                .set("group.id", "tessera-admin")
                .create()
                .map_err(|e| e.to_string())?;
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, partition, Offset::Offset(offset))
                .map_err(|e| e.to_string())?;
            c.assign(&tpl).map_err(|e| e.to_string())?;
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if let Some(m) = c.poll(Duration::from_millis(500)) {
                    let m = m.map_err(|e| e.to_string())?;
                    if let Some(h) = m.headers() {
                        for x in h.iter() {
                            eprintln!(
                                "{}: {}",
                                x.key,
                                x.value.map(String::from_utf8_lossy).unwrap_or_default()
                            );
                        }
                    }
                    std::io::stdout()
                        .write_all(m.payload().unwrap_or_default())
                        .map_err(|e| e.to_string())?;
                    return Ok(());
                }
            }
            return Err(format!(
                "no message at {topic}/{partition}@{offset} within 10s"
            ));
        }
    }
    Ok(())
}

async fn publish(brokers: &str, ods: &str, name: &str, status: TenantStatus) -> Result<(), String> {
    let ods = tessera_nhs_ods(ods)?;
    let kafka = kafka_settings(brokers);
    let record = TenantRecord {
        ods_code: ods.clone(),
        name: name.into(),
        status: status as i32,
        updated_at: chrono::Utc::now().to_rfc3339(),
        ..Default::default()
    };
    tessera_tenancy::publish_tenant(&kafka, &record)
        .await
        .map_err(|e| e.to_string())?;
    println!("{ods}: {}", status.as_str_name());
    Ok(())
}

fn tessera_nhs_ods(s: &str) -> Result<String, String> {
    tessera_tenancy::TenantId::parse(s)
        .map(|t| t.to_string())
        .map_err(|e| e.to_string())
}

/// The broker at `brokers`; the idempotent producer unless `TESSERA_KAFKA__IDEMPOTENCE` is
/// `false` (the local broker, ADR 19).
fn kafka_settings(brokers: &str) -> KafkaSettings {
    KafkaSettings {
        brokers: brokers.into(),
        idempotence: std::env::var("TESSERA_KAFKA__IDEMPOTENCE").map_or(true, |v| v != "false"),
        ..KafkaSettings::default()
    }
}
