//! What every service starts with, built once: its HTTP listener, the tenant-scoped database
//! pool (and the platform schema), Redis, the token verifier, metrics, the tenant registry,
//! the outbox relay and the readiness checks; then its HTTP server with the operational routes
//! and its API; then the tasks every service runs (HTTP, relay, tenant registry feed).
use crate::gate::{Gate, HasGate};
use crate::openapi::{ApiInfo, ServedDocument};
use crate::operations::Operations;
use crate::{RateLimitConfig, RateLimiter};
use actix_web::{middleware, web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use tessera_access::{AuthConfig, JwtVerifier, Revocations};
use tessera_audit::PlatformMigrator;
use tessera_bootstrap::{Metrics, Readiness, Shutdown, Supervisor};
use tessera_events::Relay;
use tessera_tenancy::{
    health, migrate_schema, run_registry_feed, KafkaSettings, Provisioner, TenantDb,
    TenantRegistry, PLATFORM_SCHEMA,
};
use utoipa_actix_web::AppExt;

pub use crate::serve::{serve, Consumers, Service};

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
    Metrics(String),
    #[error("kafka: {0}")]
    Kafka(String),
    #[error("config: {0}")]
    Config(String),
}

/// Where a service listens: the API's port, and the management port that serves `/metrics`
/// and the detailed `/readyz` to the cluster only (ADR 20).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// 0 picks a free port (tests).
    pub management_port: u16,
    pub workers: usize,
    /// Seconds between SIGTERM and closing the listener: `/readyz` says "draining" and new
    /// requests are still served while the load balancer takes the instance out of rotation
    /// (Kubernetes removes the endpoint concurrently with the signal). 0 in tests.
    pub drain_seconds: u64,
}

impl HttpConfig {
    /// On loopback, with the API on `port` and management on `management_port`.
    pub fn on(port: u16, management_port: u16) -> Self {
        Self {
            port,
            management_port,
            ..Self::default()
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            management_port: 9090,
            workers: 2,
            drain_seconds: 0,
        }
    }
}

/// The settings every service has.
pub struct Settings<'a> {
    /// The service's name: metrics, audit records, rate-limit keys.
    pub service: &'static str,
    pub http: &'a HttpConfig,
    pub database_url: &'a str,
    pub database_max_connections: u32,
    pub redis_url: &'a str,
    pub kafka: &'a KafkaSettings,
    pub auth: &'a AuthConfig,
    pub rate_limit: &'a RateLimitConfig,
}

pub struct Foundation {
    pub service: &'static str,
    pub listener: TcpListener,
    pub port: u16,
    management: TcpListener,
    pub management_port: u16,
    pub db: TenantDb,
    pub redis: redis::aio::ConnectionManager,
    pub metrics: Metrics,
    pub registry: Arc<TenantRegistry>,
    pub relay: Relay,
    pub readiness: Readiness,
    drain_seconds: u64,
    gate: Gate,
}

impl Foundation {
    pub async fn connect(s: Settings<'_>) -> Result<Self, StartupError> {
        let (listener, port) = bind(&s.http.host, s.http.port)?;
        let (management, management_port) = bind(&s.http.host, s.http.management_port)?;
        let db = TenantDb::connect(s.database_url, s.database_max_connections).await?;
        migrate_schema::<PlatformMigrator>(s.database_url, PLATFORM_SCHEMA).await?;
        let redis = redis::aio::ConnectionManager::new(redis::Client::open(s.redis_url)?).await?;
        let verifier = Arc::new(JwtVerifier::new(s.auth.clone()).await?);
        let metrics = Metrics::new(s.service).map_err(|e| StartupError::Metrics(e.to_string()))?;
        let registry = TenantRegistry::new();
        let relay = Relay::new(db.clone(), s.kafka, registry.clone(), metrics.clone())
            .map_err(|e| StartupError::Kafka(e.to_string()))?;
        let readiness = Readiness::new()
            .with(Arc::new(health::Database(db.clone())))
            .with(Arc::new(
                health::Broker::new(s.kafka).map_err(StartupError::Kafka)?,
            ))
            .with(Arc::new(health::Tenants::new(registry.clone())));
        let gate = Gate {
            service: s.service,
            db: db.clone(),
            registry: registry.clone(),
            verifier,
            revocations: Revocations::new(redis.clone()),
            rate_limiter: RateLimiter::new(redis.clone(), s.service, s.rate_limit.clone())
                .with_registry(registry.clone()),
            metrics: metrics.clone(),
            relay: relay.waker(),
            operations: Arc::new(Operations::new()),
            session_cookie: None,
        };
        Ok(Self {
            service: s.service,
            listener,
            port,
            management,
            management_port,
            db,
            redis,
            metrics,
            registry,
            relay,
            readiness,
            drain_seconds: s.http.drain_seconds,
            gate,
        })
    }

    /// The request gate over this foundation, for the service's state, authorising each
    /// route from the service's table of `operations`.
    pub fn gate(&self, operations: Operations) -> Gate {
        Gate {
            operations: Arc::new(operations),
            ..self.gate.clone()
        }
    }

    /// The HTTP servers: on the API's listener, tracing and metrics middleware, the input
    /// guard, `/livez`, a summary `/readyz`, the service's `routes` and the OpenAPI document
    /// collected from mounting them (`openapi`); on the management listener, `/livez`, the full
    /// `/readyz` and `/metrics`.
    pub fn http_server<S: HasGate + Send + Sync>(
        &self,
        state: web::Data<S>,
        workers: usize,
        shutdown_grace_seconds: u64,
        info: ApiInfo,
        routes: fn(&mut utoipa_actix_web::service_config::ServiceConfig),
    ) -> Result<Servers, StartupError> {
        let readiness = web::Data::new(self.readiness.clone());
        let metrics = web::Data::new(self.metrics.clone());
        let listener = self
            .listener
            .try_clone()
            .map_err(|e| StartupError::Bind(format!("port {}", self.port), e))?;
        let api = HttpServer::new(move || {
            let operations = state.gate().operations.clone();
            let (app, doc) = App::new()
                .app_data(state.clone())
                .app_data(readiness.clone())
                .app_data(metrics.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .app_data(web::JsonConfig::default().error_handler(|e, _| {
                    crate::problem::ApiError::bad_request(format!("body: {e}")).into()
                }))
                .wrap(middleware::from_fn(crate::input::guard))
                .wrap(middleware::from_fn(crate::negotiate::fhir_formats))
                .wrap(middleware::from_fn(crate::capture::fhir_responses))
                .wrap(middleware::from_fn(tessera_bootstrap::http::observe))
                .into_utoipa_app()
                .configure(crate::openapi::operational)
                .configure(routes)
                .split_for_parts();
            let doc = crate::openapi::finish(doc, &info, &operations);
            app.app_data(web::Data::new(ServedDocument(doc.to_string())))
                .default_service(web::to(crate::negotiate::no_such_route))
        })
        .workers(workers.max(1))
        .disable_signals()
        .shutdown_timeout(shutdown_grace_seconds)
        .listen(listener)
        .map_err(|e| StartupError::Bind(format!("port {}", self.port), e))?
        .run();
        Ok(Servers {
            api,
            management: self.management_server()?,
            readiness: self.readiness.clone(),
            drain: std::time::Duration::from_secs(self.drain_seconds),
            service: self.service,
        })
    }

    fn management_server(&self) -> Result<actix_web::dev::Server, StartupError> {
        let readiness = web::Data::new(self.readiness.clone());
        let metrics = web::Data::new(self.metrics.clone());
        let registry = web::Data::new(self.registry.clone());
        let db = web::Data::new(self.db.clone());
        let port = self.management_port;
        let listener = self
            .management
            .try_clone()
            .map_err(|e| StartupError::Bind(format!("port {port}"), e))?;
        Ok(HttpServer::new(move || {
            App::new()
                .app_data(readiness.clone())
                .app_data(metrics.clone())
                .app_data(registry.clone())
                .app_data(db.clone())
                // Before the shared routes: this `/metrics` samples the trusts' readiness and
                // the database pool first.
                .route("/metrics", web::get().to(sampled_metrics))
                .configure(tessera_bootstrap::http::management_routes)
                .route("/tenants/{ods}", web::get().to(tenant_report))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|e| StartupError::Bind(format!("port {port}"), e))?
        .run())
    }
}

/// `/metrics`, with the gauges read at scrape time set first: each trust's readiness here
/// (`tessera_tenant_ready`) and the database pool (`tessera_db_pool_connections`).
async fn sampled_metrics(
    metrics: web::Data<Metrics>,
    registry: web::Data<Arc<TenantRegistry>>,
    db: web::Data<TenantDb>,
) -> actix_web::HttpResponse {
    for (tenant, state) in registry.snapshot() {
        // A suspended trust is not expected to be served: not reported (no alert for it).
        if state == tessera_tenancy::TenantState::Suspended {
            let _ = metrics.tenant_ready.remove_label_values(&[tenant.as_str()]);
            continue;
        }
        metrics
            .tenant_ready
            .with_label_values(&[tenant.as_str()])
            .set(i64::from(state == tessera_tenancy::TenantState::Ready));
    }
    let pool = db.raw().get_postgres_connection_pool();
    let (size, idle) = (i64::from(pool.size()), pool.num_idle() as i64);
    let max = i64::from(pool.options().get_max_connections());
    for (state, n) in [("in_use", size - idle), ("idle", idle), ("max", max)] {
        metrics.db_pool.with_label_values(&[state]).set(n);
    }
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// `/tenants/{ods}` on the management port: how far this instance has come with one trust
/// (the tenant operator reads it into the `Trust`'s status). 404 when it has never heard of
/// the trust; 400 for a malformed ODS code.
async fn tenant_report(
    registry: web::Data<Arc<TenantRegistry>>,
    ods: web::Path<String>,
) -> actix_web::HttpResponse {
    match tessera_tenancy::TenantId::parse(&ods) {
        Err(e) => actix_web::HttpResponse::BadRequest()
            .json(serde_json::json!({ "error": e.to_string() })),
        Ok(tenant) => {
            let report = registry.report(&tenant);
            if report.state == "unknown" {
                actix_web::HttpResponse::NotFound().json(report)
            } else {
                actix_web::HttpResponse::Ok().json(report)
            }
        }
    }
}

fn bind(host: &str, port: u16) -> Result<(TcpListener, u16), StartupError> {
    let addr = format!("{host}:{port}");
    let listener = TcpListener::bind(&addr).map_err(|e| StartupError::Bind(addr.clone(), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| StartupError::Bind(addr, e))?
        .port();
    Ok((listener, port))
}

/// A service's two HTTP servers (`Foundation::http_server`).
pub struct Servers {
    pub api: actix_web::dev::Server,
    pub management: actix_web::dev::Server,
    readiness: tessera_bootstrap::Readiness,
    drain: std::time::Duration,
    service: &'static str,
}

/// What the tenant registry feed needs (`tessera_tenancy::run_registry_feed`).
pub struct RegistryFeed {
    pub kafka: KafkaSettings,
    pub registry: Arc<TenantRegistry>,
    pub provisioner: Arc<dyn Provisioner>,
    /// Where the service records the tenants it learns (ADR 19).
    pub db: TenantDb,
}

/// Spawns what every service runs: the HTTP server (stopped gracefully on `shutdown`), the
/// outbox relay and the tenant registry feed.
pub fn spawn_common(
    sup: &mut Supervisor,
    servers: Servers,
    relay: Relay,
    feed: RegistryFeed,
    shutdown: &Shutdown,
) {
    let drain = servers.drain;
    let readiness = servers.readiness;
    let draining = shutdown.clone();
    sup.spawn(
        "http",
        serve_until(servers.api, async move {
            draining.wait().await;
            readiness.drain();
            tokio::time::sleep(drain).await;
        }),
    );
    let management = shutdown.clone();
    sup.spawn(
        "management-http",
        serve_until(servers.management, async move {
            management.wait().await;
            tokio::time::sleep(drain).await;
        }),
    );
    sup.spawn("outbox-relay", relay.run(shutdown.clone()));
    sup.spawn(
        "tenant-registry",
        run_registry_feed(
            feed.kafka,
            feed.registry,
            feed.provisioner,
            feed.db,
            servers.service,
            shutdown.clone(),
        ),
    );
}

/// Runs `server` until `stop` completes, then stops it gracefully (in-flight requests finish).
async fn serve_until(
    server: actix_web::dev::Server,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), std::io::Error> {
    let handle = server.handle();
    tokio::select! {
        r = server => r,
        _ = stop => {
            handle.stop(true).await;
            Ok(())
        }
    }
}
