//! `tessera-pas`: load config, start telemetry, build, run until SIGTERM (`libs/edge::foundation::serve`).
use tessera_pas::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tessera_edge::foundation::serve::<Application>("pas").await
}
