//! Every service's `main` ([`serve`] a [`Service`]), and what its event consumers share
//! ([`Consumers`]).
use crate::foundation::StartupError;
use std::sync::Arc;
use tessera_bootstrap::{Metrics, Shutdown, Supervisor};
use tessera_tenancy::{KafkaSettings, TenantDb, TenantRegistry};

/// What a service's binary runs: its configuration, how it is built, and how it runs.
pub trait Service: Sized {
    type Config: serde::Serialize + serde::de::DeserializeOwned + Default;
    fn telemetry(config: &Self::Config) -> &tessera_bootstrap::telemetry::TelemetryConfig;
    fn build(config: Self::Config)
        -> impl std::future::Future<Output = Result<Self, StartupError>>;
    fn port(&self) -> u16;
    fn management_port(&self) -> u16;
    fn run(
        self,
        shutdown: Shutdown,
    ) -> impl std::future::Future<Output = Result<(), tessera_bootstrap::Stopped>>;
}

/// Every service's `main`: load the configuration, start telemetry, build, run until
/// SIGTERM or SIGINT. Exit 2 for configuration, 1 for start-up or run failures.
pub async fn serve<S: Service>(name: &'static str) -> std::process::ExitCode {
    let config: S::Config = match tessera_bootstrap::load_config(name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _guard = match tessera_bootstrap::telemetry::init(name, S::telemetry(&config)) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("telemetry: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match S::build(config).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "startup failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = app.port(),
        management_port = app.management_port(),
        service = name,
        "listening"
    );
    let shutdown = Shutdown::new();
    shutdown.on_signals();
    let code = match app.run(shutdown).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "stopped with errors");
            1
        }
    };
    // Everything has drained. Exit now rather than wait, as the runtime's drop would, for
    // blocking broker calls still timing out against a dead broker: a pod must stop within
    // its grace period (ADR 19). Traces are flushed first.
    drop(_guard);
    std::process::exit(code)
}

/// What every consumer a service runs shares: the broker, the tenant database, the registry,
/// the metrics and the shutdown signal.
#[derive(Clone)]
pub struct Consumers {
    pub kafka: KafkaSettings,
    pub db: TenantDb,
    pub registry: Arc<TenantRegistry>,
    pub metrics: Metrics,
    pub shutdown: Shutdown,
}

impl Consumers {
    /// Spawns one consumer (`libs/events::run_consumer`) under the supervisor.
    pub fn spawn(
        &self,
        sup: &mut Supervisor,
        name: &'static str,
        spec: tessera_events::ConsumerSpec,
        handler: Arc<dyn tessera_events::Handler>,
    ) {
        sup.spawn(
            name,
            tessera_events::run_consumer(
                self.kafka.clone(),
                spec,
                self.db.clone(),
                self.registry.clone(),
                handler,
                self.metrics.clone(),
                self.shutdown.clone(),
            ),
        );
    }

    /// Spawns the consumer that keeps this service's projection of the trust's patients
    /// (`libs/patients`), in group `<group_prefix>.known-patients` (ADR 21).
    pub fn spawn_known_patients(
        &self,
        sup: &mut Supervisor,
        group_prefix: &str,
        only: Option<Vec<tessera_tenancy::TenantId>>,
    ) {
        self.spawn(
            sup,
            "known-patients-consumer",
            tessera_patients::consumer_spec(group_prefix, only),
            Arc::new(tessera_patients::KnownPatients),
        );
    }

    /// Spawns the consumers that keep this service's access projection
    /// (`libs/access::projection`), in groups `<group_prefix>.access-<stream>`.
    pub fn spawn_access_projection(
        &self,
        sup: &mut Supervisor,
        group_prefix: &str,
        only: Option<Vec<tessera_tenancy::TenantId>>,
    ) {
        for spec in tessera_access::projection::consumer_specs(group_prefix, only) {
            let name = if spec.stream == "relationship" {
                "access-relationship-consumer"
            } else {
                "access-consent-consumer"
            };
            self.spawn(
                sup,
                name,
                spec,
                Arc::new(tessera_access::projection::ProjectionHandler),
            );
        }
    }
}
