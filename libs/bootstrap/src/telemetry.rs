//! Logs and traces. Logs are JSON lines on stdout; the request span carries `trace_id`, so
//! every line written inside a request names its trace. Traces go over OTLP/HTTP when
//! `otlp_endpoint` is set, and nowhere otherwise.
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// `RUST_LOG`-style filter.
    pub log_level: String,
    /// e.g. `http://otel-collector:4318/v1/traces`. Unset: no traces leave the process.
    pub otlp_endpoint: Option<String>,
    /// `json` (default) or `pretty`, for a person at a terminal.
    pub log_format: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_level: "info".into(),
            otlp_endpoint: None,
            log_format: "json".into(),
        }
    }
}

/// Flushes traces when dropped at the end of `main`.
pub struct TelemetryGuard(Option<SdkTracerProvider>);

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("trace exporter shutdown: {e}");
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP exporter: {0}")]
    Exporter(String),
    #[error("a global subscriber is already set")]
    AlreadySet,
}

pub fn init(
    service: &'static str,
    cfg: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = EnvFilter::try_new(&cfg.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = if cfg.log_format == "pretty" {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .boxed()
    };
    let (otel, provider) = match &cfg.otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    opentelemetry_sdk::Resource::builder()
                        .with_service_name(service)
                        .build(),
                )
                .build();
            let tracer = provider.tracer(service);
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            (
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
                Some(provider),
            )
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|_| TelemetryError::AlreadySet)?;
    Ok(TelemetryGuard(provider))
}
