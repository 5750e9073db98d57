//! `tessera-region`: load config, start telemetry, build, run until SIGTERM
//! (`libs/edge::foundation::serve`).
use tessera_region::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tessera_edge::foundation::serve::<Application>("region").await
}
