//! The committed CRD is the one the Rust types generate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn the_committed_crd_is_the_generated_one() {
    let generated = tessera_tenant_operator::crd_yaml().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for path in [
        "k8s/trust-crd.yaml",
        "helm/tenant-operator/crds/trust-crd.yaml",
    ] {
        let committed = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} differs from the types: cargo run -p tessera-tenant-operator --bin crdgen > {path}"
        );
    }
}

#[test]
fn the_crd_validates_what_a_trust_may_say() {
    let crd =
        serde_json::to_value(<tessera_tenant_operator::Trust as kube::CustomResourceExt>::crd())
            .unwrap();
    let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(spec["properties"]["odsCode"]["pattern"], "^[A-Z0-9]{3,10}$");
    assert_eq!(spec["required"], serde_json::json!(["name", "odsCode"]));
    let services = &spec["properties"]["services"]["items"]["enum"];
    assert_eq!(
        services,
        &serde_json::json!([
            "mpi",
            "access",
            "referrals",
            "scheduling",
            "pas",
            "clinical-docs",
            "region"
        ])
    );
    assert_eq!(crd["spec"]["scope"], "Cluster");
    assert!(crd["spec"]["versions"][0]["subresources"]["status"].is_object());
}
