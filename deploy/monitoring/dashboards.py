#!/usr/bin/env python3
"""Generates one Grafana dashboard per service (and one for the tenant operator) into
dashboards/, from the metrics the services export (libs/bootstrap/src/metrics.rs). Run it after
changing a panel: `python3 deploy/monitoring/dashboards.py`; `cargo xtask test` fails when the
committed JSON differs from what this writes (tests/monitoring/check_monitoring.py), and
tests/e2e/tests/monitoring.rs checks every metric named here exists and moves."""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
SERVICES = ["mpi", "access", "referrals", "scheduling", "pas", "clinical-docs", "region"]


def panel(title, exprs, unit="short", legend="{{route}}", kind="timeseries"):
    """A panel of one or more PromQL expressions ((expr, legend) or expr)."""
    targets = []
    for i, e in enumerate(exprs):
        expr, leg = e if isinstance(e, tuple) else (e, legend)
        targets.append({"refId": chr(65 + i), "expr": expr, "legendFormat": leg,
                        "datasource": {"type": "prometheus", "uid": "${datasource}"}})
    return {"type": kind, "title": title, "targets": targets,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "right"}}}


def service_panels(svc):
    s = f'service="{svc}"'
    t = f'{s},tenant=~"$tenant"'
    panels = [
        panel("Requests by route", [f"sum by (route) (rate(tessera_http_requests_total{{{s}}}[5m]))"], "reqps"),
        panel("5xx by route", [f'sum by (route) (rate(tessera_http_requests_total{{{s},status=~"5.."}}[5m]))'], "reqps"),
        panel("Error ratio (SLO 99.9 %)", [(
            f'sum(rate(tessera_http_requests_total{{{s},status=~"5.."}}[5m])) / sum(rate(tessera_http_requests_total{{{s}}}[5m]))',
            "5xx ratio")], "percentunit"),
        panel("p99 latency by route", [
            f"histogram_quantile(0.99, sum by (route, le) (rate(tessera_http_request_duration_seconds_bucket{{{s}}}[5m])))"], "s"),
        panel("Requests within 250 ms (SLO 99 %)", [(
            f'sum(rate(tessera_http_request_duration_seconds_bucket{{{s},le="0.25"}}[5m])) / sum(rate(tessera_http_request_duration_seconds_count{{{s}}}[5m]))',
            "within 250 ms")], "percentunit"),
        panel("Outbox backlog by trust", [(f"sum by (tenant) (tessera_outbox_pending{{{t}}})", "{{tenant}}")]),
        panel("Relay lag: oldest unpublished event", [(f"max by (tenant) (tessera_outbox_oldest_seconds{{{t}}})", "{{tenant}}")], "s"),
        panel("Events published by trust", [(f"sum by (tenant) (rate(tessera_outbox_published_total{{{t}}}[5m]))", "{{tenant}}")], "ops"),
        panel("Consumer lag by stream", [(f"max by (stream) (tessera_consumer_lag_messages{{{s}}})", "{{stream}}")]),
        panel("Events consumed by stream and result", [(
            f"sum by (stream, result) (rate(tessera_events_consumed_total{{{s}}}[5m]))", "{{stream}} {{result}}")], "ops"),
        panel("Audit-store lag (access consuming audit.events)", [(
            'max(tessera_consumer_lag_messages{service="access",stream="audit.events"})', "audit records waiting")]),
        panel("Trusts ready in this service", [(f"min by (tenant) (tessera_tenant_ready{{{t}}})", "{{tenant}}")]),
        panel("Database pool", [(f"sum by (state) (tessera_db_pool_connections{{{s}}})", "{{state}}")]),
        panel("Rate-limited requests by trust", [(f"sum by (tenant) (rate(tessera_rate_limited_total{{{t}}}[5m]))", "{{tenant}}")], "reqps"),
    ]
    if svc == "access":
        panels += [
            panel("Break-glass accesses per hour by trust", [(
                'sum by (tenant) (increase(tessera_break_glass_total{tenant=~"$tenant"}[1h]))', "{{tenant}}")]),
            panel("Audit chain verifications", [(
                'sum by (tenant, result) (increase(tessera_audit_chain_verifications_total{tenant=~"$tenant"}[1h]))',
                "{{tenant}} {{result}}")]),
        ]
    if svc == "mpi":
        panels.append(panel("HL7 v2 messages by ACK", [(
            f"sum by (tenant, ack) (rate(tessera_hl7_messages_total{{{t}}}[5m]))", "{{tenant}} {{ack}}")], "ops"))
    return panels


def operator_panels():
    return [
        panel("Reconciles", [("rate(tessera_operator_reconciles_total[5m])", "reconciles")], "ops"),
        panel("Reconcile failures by code", [("sum by (code) (rate(tessera_operator_reconcile_failures_total[5m]))", "{{code}}")], "ops"),
        panel("Trusts ready", [("min by (trust) (tessera_operator_trust_ready)", "{{trust}}")]),
    ]


def dashboard(uid, title, panels, with_tenant=True):
    for i, p in enumerate(panels):
        p["id"] = i + 1
        p["gridPos"] = {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8}
    variables = [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
    if with_tenant:
        variables.append({"name": "tenant", "type": "query", "label": "Trust", "includeAll": True, "multi": True,
                          "allValue": ".*", "current": {"text": "All", "value": "$__all"},
                          "datasource": {"type": "prometheus", "uid": "${datasource}"},
                          "query": "label_values(tessera_tenant_ready, tenant)", "refresh": 2})
    return {"uid": uid, "title": title, "tags": ["tessera"], "schemaVersion": 39, "editable": False,
            "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "browser",
            "templating": {"list": variables}, "panels": panels,
            "links": [{"title": "Runbooks", "type": "link",
                       "url": "https://github.com/tessera-nhs/tessera/tree/main/docs/runbooks"}]}


def generate():
    out = {f"{svc}.json": dashboard(f"tessera-{svc}", f"Tessera · {svc}", service_panels(svc)) for svc in SERVICES}
    out["tenant-operator.json"] = dashboard("tessera-tenant-operator", "Tessera · tenant operator",
                                            operator_panels(), with_tenant=False)
    return {name: json.dumps(d, indent=2, sort_keys=True) + "\n" for name, d in out.items()}


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dashboards"
    target.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (target / name).write_text(text)
