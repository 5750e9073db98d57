//! Builds the MPI from its configuration and runs it: HTTP server, outbox relay and tenant
//! registry feed, side by side under one supervisor. Tests build it the same way, on port 0.
use crate::api::{self, AppState};
use crate::config::Config;
use crate::store::migration::TenantMigrator;
use actix_web::web;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::{Shutdown, Supervisor};
use tessera_edge::foundation::{spawn_common, Consumers, Foundation, RegistryFeed, Settings};
use tessera_edge::Idempotency;
use tessera_events::Relay;
use tessera_tenancy::{SchemaAndTopics, TenantId, TenantRegistry};

pub use tessera_edge::foundation::StartupError;

pub struct Application {
    port: u16,
    management_port: u16,
    server: tessera_edge::foundation::Servers,
    relay: Relay,
    registry: Arc<TenantRegistry>,
    provisioner: Arc<SchemaAndTopics<TenantMigrator>>,
    config: Config,
    state: web::Data<AppState>,
    mllp: Vec<crate::api::mllp::Listener>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let f = Foundation::connect(Settings {
            service: "mpi",
            http: &config.http,
            database_url: &config.database_url,
            database_max_connections: config.database_max_connections,
            redis_url: &config.redis_url,
            kafka: &config.kafka,
            auth: &config.auth,
            rate_limit: &config.rate_limit,
        })
        .await?;
        let only = SchemaAndTopics::<TenantMigrator>::parse_only(config.tenancy.only.as_deref())
            .map_err(|e| StartupError::Config(e.to_string()))?;
        let provisioner = Arc::new(SchemaAndTopics::<TenantMigrator> {
            database_url: config.database_url.clone(),
            only,
            topics: vec![("mpi", "patient"), ("mpi", "adt"), ("audit", "events")],
            platform_topics: vec![tessera_audit::PLATFORM_TOPIC.to_string()],
            migrator: std::marker::PhantomData,
        });
        let state = web::Data::new(AppState {
            gate: f.gate(api::operations()),
            idempotency: Idempotency::new(f.redis.clone(), config.idempotency_ttl_seconds),
            models: crate::app::models::ModelCache::new(Duration::from_secs(30)),
            restricted_activity: config.restricted_activity.clone(),
        });
        let mut mllp = Vec::new();
        for l in &config.hl7.listeners {
            let tenant =
                TenantId::parse(&l.tenant).map_err(|e| StartupError::Config(e.to_string()))?;
            let addr = format!("{}:{}", l.host, l.port);
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|e| StartupError::Bind(addr, e))?;
            mllp.push(crate::api::mllp::Listener {
                tenant,
                listener,
                max_message_bytes: config.hl7.max_message_bytes,
                idle_timeout: Duration::from_secs(config.hl7.idle_timeout_seconds.max(1)),
            });
        }
        let server = f.http_server(
            state.clone(),
            config.http.workers,
            config.shutdown_grace_seconds,
            api::INFO,
            api::routes,
        )?;
        Ok(Self {
            port: f.port,
            management_port: f.management_port,
            server,
            relay: f.relay,
            registry: f.registry,
            provisioner,
            config,
            state,
            mllp,
        })
    }

    /// The MLLP listeners: each trust's ODS code and the port it listens on.
    pub fn mllp_ports(&self) -> Vec<(String, u16)> {
        self.mllp
            .iter()
            .filter_map(|l| {
                let port = l.listener.local_addr().ok()?.port();
                Some((l.tenant.to_string(), port))
            })
            .collect()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` and the detailed `/readyz` are served.
    pub fn management_port(&self) -> u16 {
        self.management_port
    }

    pub fn registry(&self) -> Arc<TenantRegistry> {
        self.registry.clone()
    }

    /// Runs until `shutdown` (or until a task fails), then drains: HTTP stops accepting and
    /// finishes in-flight requests, the relay finishes its batch, the feed stops.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), tessera_bootstrap::Stopped> {
        let mut sup = Supervisor::new(shutdown.clone()).grace(Duration::from_secs(
            self.config.shutdown_grace_seconds + self.config.http.drain_seconds + 5,
        ));
        sup.spawn(
            "hl7-ack-retention",
            crate::jobs::retention::Hl7AckRetention {
                db: self.state.gate.db.clone(),
                registry: self.registry.clone(),
                keep_days: self.config.hl7.ack_retention_days,
                every: Duration::from_secs(self.config.hl7.ack_purge_interval_seconds.max(1)),
            }
            .run(shutdown.clone()),
        );
        for l in self.mllp {
            let name: &'static str = "mllp-listener";
            sup.spawn(name, l.run(self.state.clone(), shutdown.clone()));
        }
        Consumers {
            kafka: self.config.kafka.clone(),
            db: self.state.gate.db.clone(),
            registry: self.registry.clone(),
            metrics: self.state.gate.metrics.clone(),
            shutdown: shutdown.clone(),
        }
        .spawn_access_projection(
            &mut sup,
            &self.config.consumer_group_prefix,
            self.provisioner.only_list(),
        );
        spawn_common(
            &mut sup,
            self.server,
            self.relay,
            RegistryFeed {
                kafka: self.config.kafka.clone(),
                registry: self.registry.clone(),
                provisioner: self.provisioner.clone(),
                db: self.state.gate.db.clone(),
            },
            &shutdown,
        );
        sup.run().await
    }
}

impl tessera_edge::foundation::Service for Application {
    type Config = Config;

    fn telemetry(config: &Config) -> &tessera_bootstrap::telemetry::TelemetryConfig {
        &config.telemetry
    }

    async fn build(config: Config) -> Result<Self, StartupError> {
        Application::build(config).await
    }

    fn port(&self) -> u16 {
        Application::port(self)
    }

    fn management_port(&self) -> u16 {
        Application::management_port(self)
    }

    async fn run(self, shutdown: Shutdown) -> Result<(), tessera_bootstrap::Stopped> {
        Application::run(self, shutdown).await
    }
}
