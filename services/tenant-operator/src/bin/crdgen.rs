//! Prints the `Trust` CRD generated from the Rust types:
//! `cargo run -p tessera-tenant-operator --bin crdgen > k8s/trust-crd.yaml`.
fn main() -> std::process::ExitCode {
    match tessera_tenant_operator::crd_yaml() {
        Ok(yaml) => {
            print!("{yaml}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crdgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
