"""The gateway's route table: one entry per AIService, merged into a shared ConfigMap."""

from __future__ import annotations

import json

from .catalog import TASK_DEFAULTS
from .config import OperatorConfig
from .models import AIServiceSpec
from .render import model_name, predictor_host


ROUTE_TABLE_LABEL = "platform.ai-platform.dev/route-table"


class RouteConflict(ValueError):
    """Another service already holds the route's name or path."""


def route_entry(name: str, namespace: str, spec: AIServiceSpec) -> dict:
    """The route-table entry of an AIService (gateway format)."""
    defaults = TASK_DEFAULTS[spec.task]
    route = spec.route
    resource = route.resource or defaults.resource or name
    return {
        "name": name,
        "kind": spec.task,
        "resource": resource,
        "path": f"/api/v1/{resource}",
        "upstream": f"http://{predictor_host(name, namespace)}",
        "model": model_name(name, spec),
        "protocol": route.protocol,
        "scopes": list(route.scopes) if route.scopes else [resource],
        "timeout_s": route.timeout_s or defaults.timeout_s,
        "max_upload_mb": route.max_upload_mb or defaults.max_upload_mb,
        "max_concurrency": route.max_concurrency,
    }


def parse_table(text: str | None) -> dict:
    """Read a routes.json document; a missing or empty one is an empty table."""
    if not text or not text.strip():
        return {"routes": []}
    table = json.loads(text)
    if not isinstance(table, dict) or not isinstance(table.get("routes", []), list):
        raise ValueError("route table must be an object with a 'routes' list")
    return {**table, "routes": list(table.get("routes", []))}


def dump_table(table: dict) -> str:
    """Deterministic JSON text of a route table."""
    return json.dumps(table, indent=2, sort_keys=True) + "\n"


def _sorted(table: dict, routes: list[dict]) -> dict:
    return {**table, "routes": sorted(routes, key=lambda r: r["name"])}


def merge_route(table: dict, entry: dict) -> dict:
    """Replace (or add) the entry with the same name; keep every other service's route.

    Raises RouteConflict when another entry serves the same path, or when an entry of the same
    name points at a different namespace's service.
    """
    others = []
    for route in table.get("routes", []):
        if route.get("name") == entry["name"]:
            if route.get("upstream") != entry["upstream"]:
                raise RouteConflict(f"route name {entry['name']!r} is taken by {route.get('upstream')}")
            continue
        if route.get("path") == entry["path"]:
            raise RouteConflict(f"path {entry['path']} is taken by route {route.get('name')!r}")
        others.append(route)
    return _sorted(table, [*others, entry])


def remove_route(table: dict, name: str, upstream: str | None = None) -> dict:
    """Drop the named entry (only if it points at `upstream`, when given)."""
    keep = [r for r in table.get("routes", [])
            if r.get("name") != name or (upstream is not None and r.get("upstream") != upstream)]
    return _sorted(table, keep)


def routes_configmap(config: OperatorConfig, table: dict, resource_version: str | None = None) -> dict:
    """The route ConfigMap to apply; a resourceVersion makes the apply fail on a concurrent change."""
    # Only the operator's own label: server-side apply takes ownership of every field it sends, so
    # app.kubernetes.io/* labels here would conflict with a Helm release that owns the ConfigMap
    # (charts/platform-operator creates it empty, so that `helm uninstall` removes it).
    metadata: dict = {"name": config.routes_configmap, "namespace": config.namespace,
                      "labels": {ROUTE_TABLE_LABEL: "gateway"}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {config.routes_key: dump_table(table)}}
