#!/usr/bin/env python3
"""Writes each chart's values.schema.json from its values.yaml: every documented key with the
type of its default, unknown top-level keys refused (a misspelt setting fails `helm install`
instead of being ignored), free-form Kubernetes blocks (resources, affinity, security
contexts …) left open. Run after changing a values.yaml; tests/helm/check_charts.py fails when a
committed schema differs. `python3 tests/helm/values_schema.py`."""
import json
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHARTS = ["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region", "tenant-operator"]
# Blocks passed to Kubernetes as they are.
OPEN = {"resources", "nodeSelector", "affinity", "tolerations", "podSecurityContext", "securityContext", "services"}


def schema_of(value, key=None, top=False):
    if key in OPEN:
        return {"type": "object" if not isinstance(value, list) else "array"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        items = {}
        if value and all(isinstance(v, str) for v in value):
            items = {"type": "string"}
        elif value and all(isinstance(v, dict) for v in value):
            items = {"type": "object"}
        return {"type": "array", "items": items} if items else {"type": "array"}
    if isinstance(value, dict):
        out = {"type": "object", "properties": {k: schema_of(v, k) for k, v in value.items()}}
        if top:
            # The umbrella passes `enabled` and the subchart's `global`.
            out["properties"]["enabled"] = {"type": "boolean"}
            out["properties"]["global"] = {"type": "object"}
            out["additionalProperties"] = False
        return out
    return {}


def generate(chart):
    values = yaml.safe_load((ROOT / "helm" / chart / "values.yaml").read_text())
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "title": f"{chart} chart values"}
    schema.update(schema_of(values, top=True))
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    for chart in CHARTS:
        (ROOT / "helm" / chart / "values.schema.json").write_text(generate(chart))
