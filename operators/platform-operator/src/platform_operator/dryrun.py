"""Dry run: what the operator would create for a set of AIService and GPUPool documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import API_VERSION
from .admission import Claim, need_gb, plan
from .config import OperatorConfig
from .models import AISERVICE_NAME_RULE, AIServiceSpec, GPUPoolSpec
from .reconcile import NoPool, choose_pool
from .render import Owner, inference_service
from .routes import merge_route, route_entry, routes_configmap
from .timeslicing import timeslicing_configmap

DRY_RUN_UID = "00000000-0000-0000-0000-000000000000"


@dataclass
class DryRun:
    """Rendered objects, plus notes on what would be refused and why."""

    objects: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d and d.get("apiVersion") == API_VERSION and d.get("kind") == kind]


def render_documents(docs: list[dict], namespace: str = "default",
                     config: OperatorConfig | None = None) -> DryRun:
    """Render every GPUPool and AIService in `docs`; services are admitted in document order."""
    config = config or OperatorConfig()
    out = DryRun()
    pools = _of_kind(docs, "GPUPool")
    pool_specs = {p["metadata"]["name"]: GPUPoolSpec.model_validate(p.get("spec") or {}) for p in pools}
    for pool in pools:
        name = pool["metadata"]["name"]
        out.objects.append(timeslicing_configmap(name, pool["metadata"].get("uid", DRY_RUN_UID),
                                                 pool_specs[name], config.device_plugin_namespace))
    services = []
    for index, doc in enumerate(_of_kind(docs, "AIService")):
        meta = doc["metadata"]
        if not AISERVICE_NAME_RULE.check(meta["name"]):
            raise ValueError(f"AIService {meta['name']}: {AISERVICE_NAME_RULE.message}")
        spec = AIServiceSpec.model_validate(doc.get("spec") or {})
        services.append((f"{index:06d}", meta["name"], meta.get("namespace", namespace),
                         meta.get("uid", DRY_RUN_UID), spec))
    claims: dict[str, list[Claim]] = {}
    pool_of: dict[str, str] = {}
    for order, name, ns, _, spec in services:
        if spec.gpu:
            try:
                pool_name = choose_pool(pools, spec.gpu.pool)["metadata"]["name"]
            except NoPool as exc:
                out.notes.append(f"AIService {ns}/{name} not admitted: {exc}")
                continue
            pool_of[f"{ns}/{name}"] = pool_name
            need = need_gb(spec.gpu.memory_gb, spec.scaling.max_replicas)
            claims.setdefault(pool_name, []).append(Claim(f"{ns}/{name}", need, order, False))
    decisions = {k: d for pool_name, cs in claims.items() for k, d in plan(pool_specs[pool_name], cs).items()}
    table: dict = {"routes": []}
    for _, name, ns, uid, spec in services:
        key = f"{ns}/{name}"
        if spec.gpu and key not in pool_of:
            continue
        if key in decisions and not decisions[key].admitted:
            out.notes.append(f"AIService {key} not admitted (GPUBudgetExceeded): "
                             f"{decisions[key].message(pool_of[key])}")
            continue
        pool = pool_specs.get(pool_of.get(key, ""))
        out.objects.append(inference_service(Owner(name, ns, uid), spec, pool, config.http_port))
        if spec.route.enabled:
            table = merge_route(table, route_entry(name, ns, spec))
    if table["routes"]:
        out.objects.append(routes_configmap(config, table))
    return out
