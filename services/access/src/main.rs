//! `tessera-access`: load config, start telemetry, build, run until SIGTERM.
use tessera_access_service::{Application, Config};
use tessera_bootstrap::{load_config, telemetry, Shutdown};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config: Config = match load_config("access") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _guard = match telemetry::init("access", &config.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("telemetry: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "startup failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "access listening");
    let shutdown = Shutdown::new();
    shutdown.on_signals();
    match app.run(shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped with errors");
            std::process::ExitCode::FAILURE
        }
    }
}
