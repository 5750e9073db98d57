//! Builds the clinical documentation service from its configuration and runs it: HTTP, outbox relay,
//! consumers (the access projection; the MPI's patients, so a document names a patient the
//! trust has; the MPI's merges) and the tenant
//! registry feed, under one supervisor. Tests build it the same way, on port 0.
use crate::api::{self, AppState};
use crate::config::Config;
use crate::store::migration::TenantMigrator;
use actix_web::web;
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::{Shutdown, Supervisor};
use tessera_edge::foundation::{spawn_common, Consumers, Foundation, RegistryFeed, Settings};
use tessera_events::Relay;
use tessera_tenancy::{SchemaAndTopics, TenantRegistry};

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
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let f = Foundation::connect(Settings {
            service: "clinical-docs",
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
            topics: vec![
                ("clinical-docs", "document"),
                ("clinical-docs", "shared"),
                ("audit", "events"),
            ],
            platform_topics: vec![tessera_audit::PLATFORM_TOPIC.to_string()],
            migrator: std::marker::PhantomData,
        });
        let state = web::Data::new(AppState {
            gate: f.gate(api::operations(&config)),
            config: config.clone(),
        });
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
        })
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

    /// Runs until `shutdown` (or until a task fails), then drains.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), tessera_bootstrap::Stopped> {
        let mut sup = Supervisor::new(shutdown.clone()).grace(Duration::from_secs(
            self.config.shutdown_grace_seconds + self.config.http.drain_seconds + 5,
        ));
        let gate = &self.state.gate;
        let only = self.provisioner.only_list();
        let run = Consumers {
            kafka: self.config.kafka.clone(),
            db: gate.db.clone(),
            registry: self.registry.clone(),
            metrics: gate.metrics.clone(),
            shutdown: shutdown.clone(),
        };
        run.spawn_access_projection(&mut sup, &self.config.consumer_group_prefix, only.clone());
        run.spawn_known_patients(&mut sup, &self.config.consumer_group_prefix, only.clone());
        for (name, spec, handler) in crate::events::specs(&self.config.consumer_group_prefix, only)
        {
            run.spawn(&mut sup, name, spec, handler);
        }
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
