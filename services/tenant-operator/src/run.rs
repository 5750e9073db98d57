//! Running the operator: configuration, the controller over every `Trust`, and the
//! management port (`/livez`, `/readyz` — ready once the `Trust` CRD answers a list —, and
//! `/metrics`), until SIGTERM.
use crate::crd::Trust;
use crate::metrics::OperatorMetrics;
use crate::probe::ServiceEndpoint;
use crate::reconcile::{error_policy, reconcile, Context};
use actix_web::{web, App, HttpResponse, HttpServer};
use futures::StreamExt;
use kube::api::{Api, ListParams};
use kube::runtime::{watcher, Controller};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tessera_bootstrap::telemetry::TelemetryConfig;
use tessera_bootstrap::Shutdown;
use tessera_tenancy::KafkaSettings;

/// `config/tenant-operator.toml`, then `TESSERA_*` variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub kafka: KafkaSettings,
    /// Every service of the platform and where its management port answers.
    pub services: Vec<ServiceEndpoint>,
    pub management_host: String,
    pub management_port: u16,
    pub settling_seconds: u64,
    pub settled_seconds: u64,
    #[serde(flatten)]
    pub telemetry: TelemetryConfig,
}

impl Default for Config {
    fn default() -> Self {
        let service = |name: &str, port: u16| ServiceEndpoint {
            name: name.into(),
            management_url: format!("http://127.0.0.1:{port}"),
        };
        Self {
            kafka: KafkaSettings::default(),
            // The local platform's management ports (`cargo xtask up`).
            services: vec![
                service("mpi", 9081),
                service("access", 9082),
                service("referrals", 9083),
                service("scheduling", 9084),
                service("pas", 9085),
                service("clinical-docs", 9086),
                service("region", 9087),
            ],
            management_host: "0.0.0.0".into(),
            management_port: 9090,
            settling_seconds: 5,
            settled_seconds: 300,
            telemetry: TelemetryConfig::default(),
        }
    }
}

/// `main`: exit code 2 for bad configuration, 1 for a failed start.
pub async fn serve() -> std::process::ExitCode {
    let config: Config = match tessera_bootstrap::load_config("tenant-operator") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _guard = match tessera_bootstrap::telemetry::init("tenant-operator", &config.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("telemetry: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the operator stopped");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    let client = kube::Client::try_default()
        .await
        .map_err(|e| format!("kubernetes client: {e}"))?;
    let metrics = OperatorMetrics::new().map_err(|e| e.to_string())?;
    let mut ctx = Context::new(
        client.clone(),
        config.kafka.clone(),
        config.services.clone(),
        metrics.clone(),
    );
    ctx.settling_every = Duration::from_secs(config.settling_seconds);
    ctx.settled_every = Duration::from_secs(config.settled_seconds);
    let shutdown = Shutdown::new();
    shutdown.on_signals();
    let ready = Arc::new(AtomicBool::new(false));
    let server = management(&config, metrics, ready.clone())?;
    let handle = server.handle();
    let http = tokio::spawn(server);
    let trusts: Api<Trust> = Api::all(client);
    // Ready once the CRD is installed and listable with the operator's RBAC.
    let probe = trusts.clone();
    let probing = ready.clone();
    tokio::spawn(async move {
        loop {
            match probe.list(&ListParams::default().limit(1)).await {
                Ok(_) => {
                    probing.store(true, Ordering::Release);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Trust resources not listable yet (is the CRD installed?)")
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let stop = shutdown.clone();
    Controller::new(trusts, watcher::Config::default())
        .graceful_shutdown_on(async move { stop.wait().await })
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|_| futures::future::ready(()))
        .await;
    handle.stop(true).await;
    let _ = http.await;
    Ok(())
}

fn management(
    config: &Config,
    metrics: OperatorMetrics,
    ready: Arc<AtomicBool>,
) -> Result<actix_web::dev::Server, String> {
    let metrics = web::Data::new(metrics);
    let ready = web::Data::new(ready);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(ready.clone())
            .route("/livez", web::get().to(tessera_bootstrap::http::livez))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .disable_signals()
    .bind((config.management_host.as_str(), config.management_port))
    .map_err(|e| format!("management port {}: {e}", config.management_port))?
    .run())
}

async fn readyz(ready: web::Data<Arc<AtomicBool>>) -> HttpResponse {
    if ready.load(Ordering::Acquire) {
        HttpResponse::Ok().json(serde_json::json!({ "ready": true }))
    } else {
        HttpResponse::ServiceUnavailable().json(
            serde_json::json!({ "ready": false, "error": "Trust resources not listable yet" }),
        )
    }
}

async fn render(metrics: web::Data<OperatorMetrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}
