"""The Grafana dashboard (ConfigMap with the sidecar label) shows the metrics the services export;
the KEDA trigger queries a metric the gateway exports."""

from __future__ import annotations

import json
import re

import yaml
from chartkit import CHARTS, ROOT, UMBRELLA, of_kind

# metrics from exporters outside this repository
EXTERNAL = ("DCGM_", "kube_")
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset"}


def exported_metrics() -> set[str]:
    """Metric names declared with prometheus_client in the services' sources."""
    names = set()
    for path in ROOT.glob("services/*/src/**/*.py"):
        names |= set(re.findall(r'(?:Counter|Gauge|Histogram|Summary)\(\s*"([a-z_:][a-z0-9_:]*)"', path.read_text()))
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or labels."""
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)  # label matchers, ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    names = set(re.findall(r"\b([A-Za-z_:][A-Za-z0-9_:]*)\b(?!\s*\()", expr))
    return {n for n in names if n not in PROMQL_WORDS}


def dashboard(helm) -> tuple[dict, dict]:
    objects = helm.template(UMBRELLA)
    (configmap,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")]
    return configmap, json.loads(configmap["data"]["ai-platform.json"])


def test_dashboard_configmap_has_the_sidecar_label(helm):
    configmap, board = dashboard(helm)
    values = yaml.safe_load((CHARTS / UMBRELLA / "values.yaml").read_text())["dashboards"]
    assert configmap["metadata"]["labels"][values["label"]] == values["labelValue"]
    assert board["uid"] == "ai-platform" and board["panels"]


def test_dashboard_panels_cover_the_platform_and_use_real_metrics(helm):
    _, board = dashboard(helm)
    exported = exported_metrics()
    used = set()
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            for metric in metric_names(target["expr"]):
                base = re.sub(r"_(bucket|sum|count)$", "", metric)
                assert base in exported or metric.startswith(EXTERNAL), \
                    f"panel {panel['title']!r}: {metric} is exported by no service"
                used.add(base)
    titles = " ".join(p["title"].lower() for p in board["panels"])
    for topic in ("request rate", "latency", "errors", "in-flight", "queued jobs", "breaker", "gpu memory"):
        assert topic in titles, f"no panel on {topic}"
    assert {"gateway_requests_total", "gateway_request_duration_seconds", "gateway_breaker_state",
            "gateway_upstream_inflight", "gateway_jobs_queued", "aip_gpu_memory_budget_bytes",
            "aip_gpu_memory_used_bytes"} <= used


def test_keda_queries_a_metric_the_gateway_exports():
    values = yaml.safe_load((CHARTS / "model-service" / "values.yaml").read_text())
    metric = values["keda"]["metric"]
    gateway_sources = " ".join(p.read_text() for p in (ROOT / "services" / "gateway" / "src").rglob("*.py"))
    match = re.search(rf'Gauge\(\s*"{metric}"\s*,\s*"[^"]*"\s*,\s*\[\s*"route"\s*\]', gateway_sources)
    assert match, f"the gateway exports no {metric}{{route=...}} gauge (services/gateway/src/gateway/metrics.py)"
