//! Builds the MPI from its configuration and runs it: HTTP server, outbox relay and tenant
//! registry feed, side by side under one supervisor. Tests build it the same way, on port 0.
use crate::api::{self, AppState};
use crate::config::Config;
use crate::provision::MpiProvisioner;
use actix_web::{middleware, web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tessera_access::{JwtVerifier, Revocations};
use tessera_audit::PlatformMigrator;
use tessera_bootstrap::{Metrics, Readiness, Shutdown, Supervisor};
use tessera_edge::gate::Gate;
use tessera_edge::{Idempotency, RateLimiter};
use tessera_events::Relay;
use tessera_tenancy::health;
use tessera_tenancy::{
    migrate_schema, run_registry_feed, TenantDb, TenantId, TenantRegistry, PLATFORM_SCHEMA,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("listening on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("database: {0}")]
    Db(#[from] tessera_tenancy::DbError),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("auth: {0}")]
    Auth(#[from] tessera_access::AuthError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus_error::Error),
    #[error("kafka: {0}")]
    Kafka(String),
    #[error("config: {0}")]
    Config(String),
}

mod prometheus_error {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    relay: Relay,
    registry: Arc<TenantRegistry>,
    provisioner: Arc<MpiProvisioner>,
    config: Config,
    state: web::Data<AppState>,
    mllp: Vec<crate::mllp::Listener>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let addr = format!("{}:{}", config.http.host, config.http.port);
        let listener = TcpListener::bind(&addr).map_err(|e| StartupError::Bind(addr.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(addr, e))?
            .port();

        let db = TenantDb::connect(&config.database_url, config.database_max_connections).await?;
        migrate_schema::<PlatformMigrator>(&config.database_url, PLATFORM_SCHEMA).await?;
        let redis =
            redis::aio::ConnectionManager::new(redis::Client::open(config.redis_url.as_str())?)
                .await?;
        let verifier = Arc::new(JwtVerifier::new(config.auth.clone()).await?);
        let metrics = Metrics::new("mpi").map_err(|e| StartupError::Metrics(Box::new(e)))?;
        let registry = TenantRegistry::new();
        let relay = Relay::new(db.clone(), &config.kafka, registry.clone(), metrics.clone())
            .map_err(StartupError::Kafka)?;
        let only = match &config.tenancy.only {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|s| TenantId::parse(s).map_err(|e| StartupError::Config(e.to_string())))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let provisioner = Arc::new(MpiProvisioner {
            database_url: config.database_url.clone(),
            kafka: config.kafka.clone(),
            only,
        });

        let readiness = Readiness::new()
            .with(Arc::new(health::Database(db.clone())))
            .with(Arc::new(
                health::Broker::new(&config.kafka).map_err(StartupError::Kafka)?,
            ))
            .with(Arc::new(health::Tenants(registry.clone())));
        let state = web::Data::new(AppState {
            gate: Gate {
                service: "mpi",
                db,
                registry: registry.clone(),
                verifier,
                revocations: Revocations::new(redis.clone()),
                rate_limiter: RateLimiter::new(redis.clone(), "mpi", config.rate_limit.clone()),
                metrics: metrics.clone(),
                relay: relay.waker(),
            },
            idempotency: Idempotency::new(redis, config.idempotency_ttl_seconds),
            models: crate::models::ModelCache::new(Duration::from_secs(30)),
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
            mllp.push(crate::mllp::Listener {
                tenant,
                listener,
                max_message_bytes: config.hl7.max_message_bytes,
                idle_timeout: Duration::from_secs(config.hl7.idle_timeout_seconds.max(1)),
            });
        }
        let readiness = web::Data::new(readiness);
        let metrics_data = web::Data::new(metrics);
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(readiness.clone())
                .app_data(metrics_data.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .wrap(middleware::from_fn(tessera_bootstrap::http::observe))
                .configure(tessera_bootstrap::http::operational_routes)
                .configure(api::routes)
        })
        .workers(config.http.workers.max(1))
        .disable_signals()
        .shutdown_timeout(config.shutdown_grace_seconds)
        .listen(listener)
        .map_err(|e| StartupError::Bind(format!("port {port}"), e))?
        .run();
        Ok(Self {
            port,
            server,
            relay,
            registry,
            provisioner,
            config,
            state: app_state,
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

    pub fn registry(&self) -> Arc<TenantRegistry> {
        self.registry.clone()
    }

    /// Runs until `shutdown` (or until a task fails), then drains: HTTP stops accepting and
    /// finishes in-flight requests, the relay finishes its batch, the feed stops.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), String> {
        let mut sup = Supervisor::new(shutdown.clone())
            .grace(Duration::from_secs(self.config.shutdown_grace_seconds + 5));
        let handle = self.server.handle();
        let stopper = shutdown.clone();
        sup.spawn("http", async move {
            let server = self.server;
            tokio::select! {
                r = server => r.map_err(|e| e.to_string()),
                _ = stopper.wait() => {
                    handle.stop(true).await;
                    Ok(())
                }
            }
        });
        sup.spawn("outbox-relay", self.relay.run(shutdown.clone()));
        sup.spawn(
            "hl7-ack-retention",
            crate::retention::Hl7AckRetention {
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
        for spec in tessera_access::projection::consumer_specs(
            &self.config.consumer_group_prefix,
            self.provisioner
                .only
                .as_ref()
                .map(|s| s.iter().cloned().collect()),
        ) {
            let name: &'static str = if spec.stream == "relationship" {
                "access-relationship-consumer"
            } else {
                "access-consent-consumer"
            };
            sup.spawn(
                name,
                tessera_events::run_consumer(
                    self.config.kafka.clone(),
                    spec,
                    self.state.gate.db.clone(),
                    self.registry.clone(),
                    std::sync::Arc::new(tessera_access::projection::ProjectionHandler),
                    self.state.gate.metrics.clone(),
                    shutdown.clone(),
                ),
            );
        }
        sup.spawn(
            "tenant-registry",
            run_registry_feed(
                self.config.kafka.clone(),
                self.registry.clone(),
                self.provisioner.clone(),
                shutdown.clone(),
            ),
        );
        sup.run().await
    }
}
