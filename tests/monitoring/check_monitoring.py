#!/usr/bin/env python3
"""Checks the monitoring kit in deploy/monitoring: the committed dashboards are what
dashboards.py generates; the alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`); every dashboard query is valid PromQL (checked by promtool as a
recording rule); every alert names a runbook page that exists. Run by `cargo xtask test`;
prints 'N passed, N failed' last. tests/e2e/tests/monitoring.rs checks that every metric used
here exists in the services and moves."""
import importlib.util
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MON = ROOT / "deploy/monitoring"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")


def promtool(*args):
    r = subprocess.run(["promtool", *args], cwd=MON, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-3000:]


def main():
    spec = importlib.util.spec_from_file_location("dashboards", MON / "dashboards.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    generated = gen.generate()
    for name, text in sorted(generated.items()):
        committed = (MON / "dashboards" / name)
        check(f"dashboards/{name} is what dashboards.py generates",
              committed.exists() and committed.read_text() == text, "run python3 deploy/monitoring/dashboards.py")
    extra = sorted(p.name for p in (MON / "dashboards").glob("*.json") if p.name not in generated)
    check("no dashboard outside the generator", not extra, extra)

    ok, out = promtool("check", "rules", "alerts.yaml")
    check("promtool check rules alerts.yaml", ok, out)
    ok, out = promtool("test", "rules", "alerts.test.yaml")
    check("promtool test rules alerts.test.yaml (each alert fires and resolves)", ok, out)

    rules = yaml.safe_load((MON / "alerts.yaml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    tests = (MON / "alerts.test.yaml").read_text()
    for a in alerts:
        name = a["alert"]
        page = ROOT / "docs/runbooks/alerts" / f"{name}.md"
        url = a.get("annotations", {}).get("runbook_url", "")
        check(f"{name} links its runbook page", url.endswith(f"docs/runbooks/alerts/{name}.md") and page.exists(), url)
        check(f"{name} has unit tests", f"alertname: {name}" in tests)

    records = []
    for name, text in sorted(generated.items()):
        for p in json.loads(text)["panels"]:
            for t in p["targets"]:
                records.append({"record": f"dashboard:{len(records)}", "expr": t["expr"].replace("$tenant", ".*")})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=MON, delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboards", "rules": records}]}, f)
        path = pathlib.Path(f.name)
    try:
        ok, out = promtool("check", "rules", path.name)
        check(f"every dashboard query is valid PromQL ({len(records)} queries)", ok, out)
    finally:
        path.unlink()

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
