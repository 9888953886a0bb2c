"""Reconcile steps over a Client: what the kopf handlers do, free of kopf itself."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pydantic import ValidationError

from . import API_VERSION
from .admission import Claim, Decision, need_gb, plan
from .client import Client
from .conditions import drop_condition, find, is_true, mirror_ready, now, set_condition
from .config import OperatorConfig
from .models import AIServiceSpec, GPUPoolSpec
from .render import ISVC_API_VERSION, Owner, inference_service, predictor_host
from .routes import RouteConflict, merge_route, parse_table, remove_route, route_entry, routes_configmap

log = logging.getLogger(__name__)
_PREDICTOR_UPSTREAM = re.compile(r"http://[a-z0-9-]+-predictor\.[a-z0-9-]+\.svc\.cluster\.local")
REQUEUE_ANNOTATION = "platform.ai-platform.dev/requeued-at"


class NoPool(Exception):
    """The AIService asks for a GPU but no GPUPool can be chosen."""


@dataclass
class Outcome:
    """What reconciling one AIService decided: its new status and the events to emit."""

    status: dict
    events: list[tuple[str, str, str]]  # (type, reason, message)


def key_of(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def choose_pool(pools: list[dict], wanted: str | None) -> dict:
    """The named pool, or the only pool; raises NoPool otherwise."""
    if wanted:
        for pool in pools:
            if pool["metadata"]["name"] == wanted:
                return pool
        raise NoPool(f"GPUPool {wanted} does not exist")
    if len(pools) == 1:
        return pools[0]
    if not pools:
        raise NoPool("no GPUPool exists; create one for the GPU nodes")
    raise NoPool(f"{len(pools)} GPUPools exist; set spec.gpu.pool")


def _need(spec: AIServiceSpec) -> float:
    return need_gb(spec.gpu.memory_gb, spec.scaling.max_replicas) if spec.gpu else 0.0


def claims_on(pool_name: str, pools: list[dict], services: list[dict]) -> list[Claim]:
    """Claims of the AIServices (not being deleted, with a valid GPU spec) on one pool."""
    out = []
    for obj in services:
        meta = obj.get("metadata", {})
        if meta.get("deletionTimestamp"):
            continue
        try:
            spec = AIServiceSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            continue
        if not spec.gpu:
            continue
        try:
            chosen = choose_pool(pools, spec.gpu.pool)["metadata"]["name"]
        except NoPool:
            continue
        if chosen != pool_name:
            continue
        status = obj.get("status") or {}
        admitted = is_true(status.get("conditions"), "Admitted") and status.get("pool") == pool_name
        out.append(Claim(key_of(obj), _need(spec), meta.get("creationTimestamp", ""), admitted))
    return out


def requeue(client: Client, claims: list[Claim], decisions: dict[str, Decision], skip: str = "",
            everyone: bool = False) -> list[str]:
    """Touch every AIService whose admission would change (or all of them), so its handler runs again."""
    touched = []
    for claim in claims:
        decision = decisions[claim.key]
        if claim.key == skip or (decision.admitted == claim.admitted and not everyone):
            continue
        namespace, name = claim.key.split("/", 1)
        client.patch(API_VERSION, "AIService", name, namespace,
                     {"metadata": {"annotations": {REQUEUE_ANNOTATION: now()}}})
        touched.append(claim.key)
    return touched


def requeue_after_delete(client: Client, spec: dict, gone: str) -> list[str]:
    """Requeue services on the pool of a deleted AIService (`gone`, counted as no longer there)."""
    gpu = spec.get("gpu")
    if not gpu:
        return []
    pools = client.list(API_VERSION, "GPUPool")
    try:
        pool = choose_pool(pools, gpu.get("pool"))
    except NoPool:
        return []
    pool_spec = GPUPoolSpec.model_validate(pool.get("spec") or {})
    claims = [c for c in claims_on(pool["metadata"]["name"], pools, client.list(API_VERSION, "AIService"))
              if c.key != gone]
    return requeue(client, claims, plan(pool_spec, claims))


def prune_routes(client: Client, config: OperatorConfig) -> list[str]:
    """Drop the route entries of AIServices that no longer exist (deleted while the operator was
    down or could not reach the API); returns the names removed. Entries not pointing at a
    KServe predictor host are left alone."""
    live = client.get("v1", "ConfigMap", config.routes_configmap, config.namespace)
    if live is None:
        return []
    existing = {f"http://{predictor_host(o['metadata']['name'], o['metadata'].get('namespace', ''))}"
                for o in client.list(API_VERSION, "AIService")}
    stale = [r.get("name") for r in parse_table((live.get("data") or {}).get(config.routes_key))["routes"]
             if _PREDICTOR_UPSTREAM.fullmatch(str(r.get("upstream", ""))) and r.get("upstream") not in existing]
    if stale:
        update_routes(client, config, lambda t: {**t, "routes": [r for r in t["routes"]
                                                                 if r.get("name") not in stale or
                                                                 r.get("upstream") in existing]})
    return stale


def update_routes(client: Client, config: OperatorConfig, change) -> None:
    """Read-modify-apply the route ConfigMap; the resourceVersion guards against lost updates."""
    live = client.get("v1", "ConfigMap", config.routes_configmap, config.namespace)
    table = parse_table(((live or {}).get("data") or {}).get(config.routes_key))
    new = change(table)
    if live is not None and new == table:
        return
    version = (live or {}).get("metadata", {}).get("resourceVersion")
    client.apply(routes_configmap(config, new, version))


def withdraw(client: Client, config: OperatorConfig, name: str, namespace: str) -> None:
    """Remove what an AIService made: its InferenceService and its route."""
    client.delete(ISVC_API_VERSION, "InferenceService", name, namespace)
    upstream = f"http://{predictor_host(name, namespace)}"
    update_routes(client, config, lambda t: remove_route(t, name, upstream))


def _admit(client: Client, body: dict, spec: AIServiceSpec, conditions: list | None,
           generation: int | None) -> tuple[list[dict], str | None, GPUPoolSpec | None, bool]:
    """Run GPU admission for one AIService: (conditions, pool name, pool spec, admitted)."""
    if not spec.gpu:
        conditions = set_condition(conditions, "Admitted", True, "NoGPURequested", "CPU-only service", generation)
        return drop_condition(conditions, "GPUBudgetExceeded"), None, None, True
    old = body.get("status") or {}
    pools = client.list(API_VERSION, "GPUPool")
    pool = choose_pool(pools, spec.gpu.pool)
    pool_name, pool_spec = pool["metadata"]["name"], GPUPoolSpec.model_validate(pool.get("spec") or {})
    me = Claim(key_of(body), _need(spec), body["metadata"].get("creationTimestamp", ""),
               is_true(conditions, "Admitted") and old.get("pool") == pool_name)
    claims = [c for c in claims_on(pool_name, pools, client.list(API_VERSION, "AIService")) if c.key != me.key]
    decisions = plan(pool_spec, [*claims, me])
    requeue(client, claims, decisions)
    decision = decisions[me.key]
    message = decision.message(pool_name)
    if decision.admitted:
        conditions = set_condition(conditions, "Admitted", True, "GPUBudgetFits", message, generation)
        return drop_condition(conditions, "GPUBudgetExceeded"), pool_name, pool_spec, True
    conditions = set_condition(conditions, "Admitted", False, "GPUBudgetExceeded", message, generation)
    conditions = set_condition(conditions, "GPUBudgetExceeded", True, "GPUBudgetExceeded", message, generation)
    conditions = set_condition(conditions, "Ready", False, "NotAdmitted", "waiting for GPU memory", generation)
    return drop_condition(conditions, "RouteRegistered"), pool_name, pool_spec, False


def _route(client: Client, config: OperatorConfig, name: str, namespace: str, spec: AIServiceSpec,
           conditions: list[dict], generation: int | None, events: list) -> tuple[list[dict], str | None]:
    """Register (or, when disabled, remove) the gateway route: (conditions, registered path)."""
    if not spec.route.enabled:
        update_routes(client, config, lambda t: remove_route(t, name, f"http://{predictor_host(name, namespace)}"))
        return drop_condition(conditions, "RouteRegistered"), None
    entry = route_entry(name, namespace, spec)
    try:
        update_routes(client, config, lambda t: merge_route(t, entry))
    except RouteConflict as exc:
        events.append(("Warning", "RouteConflict", str(exc)))
        return set_condition(conditions, "RouteRegistered", False, "RouteConflict", str(exc), generation), None
    return set_condition(conditions, "RouteRegistered", True, "RouteRegistered", f"gateway serves {entry['path']}",
                         generation), entry["path"]


def reconcile_service(client: Client, config: OperatorConfig, body: dict, spec: AIServiceSpec) -> Outcome:
    """Admit, apply and route one AIService; return its status and events."""
    meta = body["metadata"]
    name, namespace, generation = meta["name"], meta["namespace"], meta.get("generation")
    conditions = (body.get("status") or {}).get("conditions")
    was_admitted = is_true(conditions, "Admitted")
    conditions, pool_name, pool_spec, admitted = _admit(client, body, spec, conditions, generation)
    admission = find(conditions, "Admitted")
    if not admitted:
        withdraw(client, config, name, namespace)
        return Outcome({"conditions": conditions, "pool": pool_name, "observedGeneration": generation,
                        "url": None, "route": None}, [("Warning", "GPUBudgetExceeded", admission["message"])])
    events = [] if was_admitted else [("Normal", "Admitted", admission["message"])]
    live = client.apply(inference_service(Owner(name, namespace, meta["uid"]), spec, pool_spec, config.http_port))
    conditions, route_path = _route(client, config, name, namespace, spec, conditions, generation, events)
    mirrored = mirror_ready({"conditions": conditions}, live, generation)
    return Outcome({**mirrored, "url": mirrored.get("url"), "pool": pool_name, "route": route_path,
                    "observedGeneration": generation}, events)


def pool_status(client: Client, name: str, spec: GPUPoolSpec, generation: int | None,
                config_map: str, everyone: bool = False) -> tuple[dict, list[str]]:
    """A GPUPool's budget status; requeues services whose admission would change, or, after a
    change of the pool (`everyone`), all its services so they pick up its settings."""
    pools = client.list(API_VERSION, "GPUPool")
    claims = claims_on(name, pools, client.list(API_VERSION, "AIService"))
    decisions = plan(spec, claims)
    touched = requeue(client, claims, decisions, everyone=everyone)
    admitted = sorted(c.key for c in claims if c.admitted)
    status = {
        "capacityGB": spec.capacity_gb,
        "allocatedGB": round(sum(c.need_gb for c in claims if c.admitted), 3),
        "admitted": admitted,
        "waiting": sorted(c.key for c in claims if not c.admitted),
        "configMap": config_map,
        "observedGeneration": generation,
    }
    return status, touched
