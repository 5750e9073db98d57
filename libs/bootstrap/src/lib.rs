//! What every Tessera service starts with, so that `main` stays a dozen lines:
//! layered configuration, JSON logs carrying trace ids, OpenTelemetry traces (off unless an
//! OTLP endpoint is configured), Prometheus metrics, `/livez` and `/readyz`, graceful shutdown
//! and supervision of long-running tasks.
//!
//! It must never log patient data: it logs routes (patterns, not paths), statuses and timings.

pub mod config;
pub mod health;
pub mod http;
pub mod metrics;
pub mod shutdown;
pub mod supervise;
pub mod telemetry;
pub mod trace;

pub use config::{load_config, ConfigError};
pub use health::{Readiness, ReadinessCheck};
pub use metrics::Metrics;
pub use shutdown::Shutdown;
pub use supervise::{Stopped, Supervisor};
pub use trace::TraceContext;
