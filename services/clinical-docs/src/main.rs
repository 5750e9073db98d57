//! `tessera-clinical-docs`: load config, start telemetry, build, run until SIGTERM
//! (`libs/edge::foundation::serve`).
use tessera_clinical_docs::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tessera_edge::foundation::serve::<Application>("clinical-docs").await
}
