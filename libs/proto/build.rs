//! Generates the event types from `proto/` with prost. Needs `protoc` (Debian's
//! `protobuf-compiler`, installed by `cargo xtask up`/`test`), or `PROTOC` pointing at one.
fn main() -> std::io::Result<()> {
    // Read when the script runs, not baked in when it is compiled: a build script compiled in
    // one checkout may be run for another sharing the target directory.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map_err(std::io::Error::other)?;
    let root = std::path::Path::new(&manifest).join("../../proto");
    let files = [
        "tessera/tenancy/v1/tenant.proto",
        "tessera/mpi/v1/patient.proto",
        "tessera/audit/v1/audit.proto",
        "tessera/access/v1/access.proto",
        "tessera/referrals/v1/referral.proto",
        "tessera/referrals/v1/rtt.proto",
        "tessera/pas/v1/encounter.proto",
        "tessera/pas/v1/activity.proto",
        "tessera/scheduling/v1/appointment.proto",
        "tessera/clinicaldocs/v1/document.proto",
        "tessera/events/v1/batch.proto",
    ];
    let paths: Vec<_> = files.iter().map(|f| root.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    prost_build::compile_protos(&paths, &[root])
}
