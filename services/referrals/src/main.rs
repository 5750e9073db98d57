//! `tessera-referrals`: load config, start telemetry, build, run until SIGTERM.
use tessera_bootstrap::{load_config, telemetry, Shutdown};
use tessera_referrals::{Application, Config};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config: Config = match load_config("referrals") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _guard = match telemetry::init("referrals", &config.telemetry) {
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
    tracing::info!(port = app.port(), "referrals listening");
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
