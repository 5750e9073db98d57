//! `tessera-tenant-operator`: load config, start telemetry, run the controller and its
//! management port until SIGTERM (`run::serve`).
#[tokio::main]
async fn main() -> std::process::ExitCode {
    tessera_tenant_operator::run::serve().await
}
