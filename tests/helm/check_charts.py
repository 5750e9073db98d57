#!/usr/bin/env python3
"""Lints and renders every Helm chart offline with helm-python-sdk (Helm v4's library), then
validates every rendered manifest with kubernetes-validate, and the Trust examples against the
CRD's schema. Exits non-zero on any finding. Run by `cargo xtask test`.
Prints 'N passed, N failed' as its last line."""
import pathlib
import sys

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
KUBE_VERSION = "1.30.0"
CHARTS = ["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region", "tenant-operator", "tessera"]
# Each value set: the service charts it applies to (the umbrella gets it under that service's
# key), and the values.
VALUE_SETS = {
    "defaults": (["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region"], None),
    "autoscaled-with-tracing": (["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region"], {"autoscaling": {"enabled": True}, "config": {"otlpEndpoint": "http://otel:4318/v1/traces", "onlyTenants": ["RXR", "RBT"]},
                                "networkPolicy": {"allowFromNamespaces": ["ingress-nginx"]}}),
    "with-mllp": (["mpi"], {"hl7": {"listeners": [{"tenant": "RXR", "port": 2575}, {"tenant": "RBT", "port": 2576}],
                          "allowFromCidrs": ["10.20.0.0/16"]}}),
    "access-policy": (["access"], {"breakGlass": {"minSeconds": 60, "maxSeconds": 7200, "defaultSeconds": 1800},
                                   "roles": {"privacyJobRoles": ["R0001", "R5105", "R5080"]},
                                   "relationships": {"defaultGraceDays": 14}}),
    "scheduling-booking": (["scheduling"], {"roles": {"bookingActivity": "B1120", "clinicActivity": "B0570"},
                                             "booking": {"holdSeconds": 120, "maxHorizonWeeks": 26}}),
    "pas-wards": (["pas"], {"roles": {"wardActivity": "B0264", "codingActivity": "B0371"},
                            "beds": {"cleanAfterDischarge": False}}),
    "clinical-docs-roles": (["clinical-docs"], {"roles": {"documentActivity": "B0380", "templateActivity": "B0381"},
                                                 "attachments": {"maxBytes": 20971520}}),
    "region-roles": (["region"], {"roles": {"summaryActivity": "B0380", "linkActivity": "B0825"},
                                  "matching": {"reviewBits": 6.5, "candidatesPerTrust": 20}}),
    "operator-defaults": (["tenant-operator"], None),
    "operator-endpoints": (["tenant-operator"], {"config": {"services": {"mpi": "http://mpi-mgmt.tessera.svc:9090"},
                                                           "otlpEndpoint": "http://otel:4318/v1/traces", "settledSeconds": 600}}),
    "referrals-roles": (["referrals"], {"roles": {"referralActivity": "B1110", "waitingListActivity": "B0570"},
                                        "waitingList": {"maxPage": 5000}}),
}

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")


def value_sets(chart):
    """(name, values) pairs for `chart`; the umbrella gets each service's sets under its key."""
    for name, (services, values) in VALUE_SETS.items():
        if chart == "tessera":
            for svc in services:
                yield f"{name}/{svc}", svc, (None if values is None else {svc: values})
        elif chart in services:
            yield name, chart, values


def main():
    # The lock is generated: a stale one (a chart added since) would refuse to build.
    (ROOT / "helm/tessera/Chart.lock").unlink(missing_ok=True)
    helm.dependency_build(str(ROOT / "helm/tessera")) if hasattr(helm, "dependency_build") else None
    for chart in CHARTS:
        path = ROOT / "helm" / chart
        for set_name, service, vals in value_sets(chart):
            report = helm.lint(str(path), vals, strict=True, kube_version=f"v{KUBE_VERSION}", with_subcharts=True)
            problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
            check(f"lint {chart} [{set_name}]", not problems, problems)
            try:
                manifests = helm.Chart.load(str(path)).render(vals, name="t", namespace="tessera", is_install=True)
            except helm.HelmError as e:
                check(f"render {chart} [{set_name}]", False, e)
                continue
            docs = []
            for template, text in manifests.items():
                if template.endswith("NOTES.txt"):
                    continue
                for doc in yaml.safe_load_all(text):
                    if doc:
                        docs.append((template, doc))
            check(f"render {chart} [{set_name}] produced manifests", len(docs) >= 5, f"{len(docs)} documents")
            kinds = sorted({d["kind"] for _, d in docs})
            for template, doc in docs:
                label = f"validate {chart} [{set_name}] {doc['kind']}/{doc['metadata']['name']}"
                try:
                    kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
                    check(label, True)
                except Exception as e:  # ValidationError and friends
                    check(label, False, f"{template}: {e}")
            if set_name.startswith("with-mllp"):
                by_kind = {d["kind"]: d for _, d in docs if "mpi" in d["metadata"]["name"]}
                env = by_kind["ConfigMap"]["data"].get("TESSERA_HL7__LISTENERS")
                check(f"{chart} passes MLLP listeners to the service", env ==
                      '[{tenant="RXR",host="0.0.0.0",port=2575},{tenant="RBT",host="0.0.0.0",port=2576}]', env)
                ports = {p["name"]: p["port"] for p in by_kind["Service"]["spec"]["ports"]}
                check(f"{chart} exposes a Service port per trust", ports.get("mllp-rxr") == 2575 and ports.get("mllp-rbt") == 2576, ports)
                rules = by_kind["NetworkPolicy"]["spec"]["ingress"]
                check(f"{chart} admits MLLP only from the named networks",
                      any(r.get("from") == [{"ipBlock": {"cidr": "10.20.0.0/16"}}] for r in rules), rules)
            if set_name.startswith("access-policy"):
                by_kind = {}
                for _, d in docs:
                    if d["kind"] == "ConfigMap" and "access" in d["metadata"]["name"]:
                        by_kind["ConfigMap"] = d
                data = by_kind.get("ConfigMap", {}).get("data", {})
                check(f"{chart} passes the access policy to the service",
                      data.get("TESSERA_BREAK_GLASS__MAX_SECONDS") == "7200" and data.get("TESSERA_ROLES__PRIVACY_JOB_ROLES") == "[R0001,R5105,R5080]"
                      and data.get("TESSERA_RELATIONSHIPS__DEFAULT_GRACE_DAYS") == "14", data)
            if set_name.startswith("referrals-roles"):
                cms = [d for _, d in docs if d["kind"] == "ConfigMap" and "referrals" in d["metadata"]["name"]]
                data = cms[0]["data"] if cms else {}
                check(f"{chart} passes the referral roles and page limits to the service",
                      data.get("TESSERA_ROLES__WAITING_LIST_ACTIVITY") == "B0570" and data.get("TESSERA_WAITING_LIST__MAX_PAGE") == "5000", data)
            if set_name.startswith("scheduling-booking"):
                cms = [d for _, d in docs if d["kind"] == "ConfigMap" and "scheduling" in d["metadata"]["name"]]
                data = cms[0]["data"] if cms else {}
                check(f"{chart} passes the booking roles and hold time to the service",
                      data.get("TESSERA_ROLES__CLINIC_ACTIVITY") == "B0570" and data.get("TESSERA_BOOKING__HOLD_SECONDS") == "120", data)
            if set_name.startswith("pas-wards"):
                cms = [d for _, d in docs if d["kind"] == "ConfigMap" and "pas" in d["metadata"]["name"]]
                data = cms[0]["data"] if cms else {}
                check(f"{chart} passes the ward and coding roles and the beds' cleaning to the service",
                      data.get("TESSERA_ROLES__CODING_ACTIVITY") == "B0371" and data.get("TESSERA_BEDS__CLEAN_AFTER_DISCHARGE") == "false", data)
            if set_name.startswith("operator-"):
                import tomllib
                cms = [d for _, d in docs if d["kind"] == "ConfigMap" and "tenant-operator" in d["metadata"]["name"]]
                conf = tomllib.loads(cms[0]["data"]["tenant-operator.toml"]) if cms else {}
                urls = {s["name"]: s["management_url"] for s in conf.get("services", [])}
                want_mpi = "http://mpi-mgmt.tessera.svc:9090" if set_name.startswith("operator-endpoints") else "http://t-mpi:9090"
                check(f"{chart} [{set_name}] tells the operator every service's management port",
                      len(urls) == 7 and urls.get("mpi") == want_mpi and urls.get("clinical-docs") == "http://t-clinical-docs:9090", urls)
                roles = [d for _, d in docs if d["kind"] == "ClusterRole"]
                rules = roles[0]["rules"] if roles else []
                check(f"{chart} [{set_name}] RBAC: Trusts and their status only, no delete",
                      {r2 for r in rules for r2 in r["resources"]} == {"trusts", "trusts/status"}
                      and not any("delete" in r["verbs"] or "*" in r["verbs"] for r in rules), rules)
            if set_name.startswith("autoscaled-with-tracing"):
                check(f"{chart} renders an HPA when autoscaling", "HorizontalPodAutoscaler" in kinds, kinds)

    # The umbrella with the whole values files an installer would use.
    for values_file in sorted((ROOT / "helm/tessera").glob("values-*.yaml")):
        vals = yaml.safe_load(values_file.read_text())
        name = values_file.name
        report = helm.lint(str(ROOT / "helm/tessera"), vals, strict=True, kube_version=f"v{KUBE_VERSION}", with_subcharts=True)
        problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
        check(f"lint tessera [{name}]", not problems, problems)
        try:
            manifests = helm.Chart.load(str(ROOT / "helm/tessera")).render(vals, name="t", namespace="tessera", is_install=True)
        except helm.HelmError as e:
            check(f"render tessera [{name}]", False, e)
            continue
        docs = [d for t, text in manifests.items() if not t.endswith("NOTES.txt") for d in yaml.safe_load_all(text) if d]
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
                check(f"validate tessera [{name}] {doc['kind']}/{doc['metadata']['name']}", True)
            except Exception as e:
                check(f"validate tessera [{name}] {doc['kind']}/{doc['metadata']['name']}", False, e)
        deployments = sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment")
        want = ["t-access", "t-mpi"] if "minimal" in name else [f"t-{s}" for s in sorted(["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region", "tenant-operator"])]
        check(f"tessera [{name}] deploys {len(want)} services", deployments == want, deployments)
    # A misspelt value is refused, not ignored.
    try:
        helm.Chart.load(str(ROOT / "helm/mpi")).render({"replicaCuont": 3}, name="t", namespace="tessera", is_install=True)
        check("values.schema.json refuses a misspelt value", False, "rendered")
    except helm.HelmError:
        check("values.schema.json refuses a misspelt value", True)
    import importlib.util
    spec = importlib.util.spec_from_file_location("values_schema", ROOT / "tests/helm/values_schema.py")
    vs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vs)
    for chart in vs.CHARTS:
        committed = (ROOT / "helm" / chart / "values.schema.json")
        check(f"helm/{chart}/values.schema.json is generated from its values.yaml",
              committed.exists() and committed.read_text() == vs.generate(chart), "run python3 tests/helm/values_schema.py")

    crd = yaml.safe_load((ROOT / "k8s/trust-crd.yaml").read_text())
    check("the operator chart ships the generated CRD",
          (ROOT / "helm/tenant-operator/crds/trust-crd.yaml").read_text() == (ROOT / "k8s/trust-crd.yaml").read_text())
    try:
        kubernetes_validate.validate(crd, KUBE_VERSION, strict=True)
        check("validate k8s/trust-crd.yaml", True)
    except Exception as e:
        check("validate k8s/trust-crd.yaml", False, e)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for example in sorted((ROOT / "k8s/examples").glob("*.yaml")):
        doc = yaml.safe_load(example.read_text())
        try:
            jsonschema.validate(doc, schema)
            check(f"validate {example.relative_to(ROOT)} against the Trust CRD", True)
        except jsonschema.ValidationError as e:
            check(f"validate {example.relative_to(ROOT)} against the Trust CRD", False, e.message)
    bad = {"apiVersion": "tessera.nhs.uk/v1alpha1", "kind": "Trust", "metadata": {"name": "x"}, "spec": {"odsCode": "r;x", "name": "x"}}
    try:
        jsonschema.validate(bad, schema)
        check("the CRD refuses a bad ODS code", False, "accepted")
    except jsonschema.ValidationError:
        check("the CRD refuses a bad ODS code", True)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
