"""Kopf handlers: parse, lock, call the reconcile steps, map API failures to retries."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import kopf
from pydantic import ValidationError

from . import API_VERSION, GROUP, VERSION
from .client import ApiError, KubeClient
from .conditions import is_true, mirror_ready, set_condition
from .config import OperatorConfig
from .models import AISERVICE_NAME_RULE, AIServiceSpec, GPUPoolSpec
from .gpucheck import ISVC_POD_LABEL
from .reconcile import (NoPool, gpu_check_status, pool_status, prune_routes, reconcile_service, requeue_after_delete,
                        withdraw)
from .render import LABEL_SERVICE, MANAGED_BY
from .timeslicing import configmap_name, timeslicing_configmap

RETRY_DELAY = 10
NO_POOL_DELAY = 60
AUDIT_INTERVAL = 60
_MANAGED = {"app.kubernetes.io/managed-by": MANAGED_BY["app.kubernetes.io/managed-by"]}


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Keep kopf's bookkeeping in annotations (the status schema is strict), post only warnings
    from logs as events, and make the client unless one was injected."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=f"operator.{GROUP}")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=f"operator.{GROUP}")
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.posting.level = logging.WARNING  # events come from the reconcile outcome, not from logs
    if "config" not in memo:
        memo.config = OperatorConfig.from_env()
    if "lock" not in memo:
        memo.lock = threading.Lock()
    if "client" not in memo:
        memo.client = KubeClient()


def _retry(exc: ApiError) -> kopf.TemporaryError:
    return kopf.TemporaryError(f"Kubernetes API call failed: {exc}", delay=RETRY_DELAY)


def _invalid(message: str, kind: str, patch: kopf.Patch, status, generation) -> kopf.PermanentError:
    patch.status["conditions"] = set_condition((status or {}).get("conditions"), kind, False,
                                               "InvalidSpec", message, generation)
    patch.status["observedGeneration"] = generation
    return kopf.PermanentError(f"invalid spec: {message}")


def _parse(model, spec, patch: kopf.Patch, status, generation):
    kind = "Admitted" if model is AIServiceSpec else "Ready"
    try:
        return model.model_validate(dict(spec or {}))
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise _invalid(message, kind, patch, status, generation) from exc


@kopf.on.resume(GROUP, VERSION, "aiservices")
@kopf.on.create(GROUP, VERSION, "aiservices")
@kopf.on.update(GROUP, VERSION, "aiservices")
def reconcile_aiservice(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                        patch: kopf.Patch, memo: kopf.Memo, logger, **_: Any) -> None:
    """Make the InferenceService and route of an AIService, once its GPU budget fits."""
    if not AISERVICE_NAME_RULE.check(meta["name"]):
        raise _invalid(AISERVICE_NAME_RULE.message, "Admitted", patch, status, meta.get("generation"))
    parsed = _parse(AIServiceSpec, spec, patch, status, meta.get("generation"))
    client, obj = memo.client, dict(body)
    try:
        with memo.lock:
            outcome = reconcile_service(client, memo.config, obj, parsed)
        for kind, reason, message in outcome.events:
            client.event(obj, kind, reason, message)
    except NoPool as exc:
        patch.status["conditions"] = set_condition(status.get("conditions"), "Admitted", False, "NoGPUPool",
                                                   str(exc), meta.get("generation"))
        client.event(obj, "Warning", "NoGPUPool", str(exc))
        raise kopf.TemporaryError(str(exc), delay=NO_POOL_DELAY) from exc
    except ApiError as exc:
        if exc.namespace_terminating:  # the AIService goes with its namespace: nothing to make
            logger.info("namespace %s is being terminated; nothing to make", meta.get("namespace"))
            return
        raise _retry(exc) from exc
    patch.status.update(outcome.status)
    logger.info("AIService reconciled: %s", outcome.status.get("conditions"))


def delete_aiservice(name: str, namespace: str, spec: kopf.Spec, memo: kopf.Memo, logger, **_: Any) -> None:
    """Remove the route and InferenceService of a deleted AIService; admit services that were
    waiting for its memory."""
    client = memo.client
    try:
        with memo.lock:
            withdraw(client, memo.config, name, namespace)
            touched = requeue_after_delete(client, dict(spec or {}), f"{namespace}/{name}")
    except ApiError as exc:
        raise _retry(exc) from exc
    logger.info("AIService deleted; requeued %s", touched)


@kopf.on.event(GROUP, VERSION, "aiservices")
def forget_deleted_aiservice(type: str, name: str, namespace: str, spec: kopf.Spec, memo: kopf.Memo, logger,
                             **kwargs: Any) -> None:
    """Clean up after an AIService is gone. No finalizer: deleting an AIService never waits for
    the operator (a `helm uninstall` removes the operator's RBAC together with the services).
    The InferenceService goes with its owner (garbage collector); a route left behind because the
    operator was down is pruned by the audit at startup and every AUDIT_INTERVAL seconds."""
    if type != "DELETED":
        return
    try:
        delete_aiservice(name=name, namespace=namespace, spec=spec, memo=memo, logger=logger, **kwargs)
    except kopf.TemporaryError as exc:
        logger.warning("cleanup after %s/%s failed; the audit retries it: %s", namespace, name, exc)


@kopf.on.event("serving.kserve.io", "v1beta1", "inferenceservices", labels=_MANAGED)
def mirror_inference_service(type: str, body: kopf.Body, namespace: str, memo: kopf.Memo, logger,
                             **_: Any) -> None:
    """Copy an InferenceService's readiness and URL into its AIService's status."""
    owner = (body.get("metadata", {}).get("labels") or {}).get(LABEL_SERVICE)
    if not owner:
        return
    client = memo.client
    try:
        ais = client.get(API_VERSION, "AIService", owner, namespace)
        if ais is None or not is_true((ais.get("status") or {}).get("conditions"), "Admitted"):
            return
        isvc = None if type == "DELETED" else dict(body)
        status = ais.get("status") or {}
        new = mirror_ready(status, isvc, ais["metadata"].get("generation"))
        if all(status.get(k) == v for k, v in new.items()):
            return
        client.patch(API_VERSION, "AIService", owner, namespace, {"status": new}, status=True)
    except ApiError as exc:
        logger.warning("could not mirror InferenceService %s/%s: %s", namespace, owner, exc)


@kopf.on.event("", "v1", "pods", labels={ISVC_POD_LABEL: kopf.PRESENT})
def report_gpu_check(type: str, body: kopf.Body, namespace: str, memo: kopf.Memo, logger, **_: Any) -> None:
    """Surface a predictor's start-up GPU check on its AIService (condition GPUReady, an event)."""
    owner = (body.get("metadata", {}).get("labels") or {}).get(ISVC_POD_LABEL)
    client = memo.client
    try:
        ais = client.get(API_VERSION, "AIService", owner, namespace)
        if ais is None:
            return
        pods = client.list("v1", "Pod", namespace)
        conditions, event = gpu_check_status(ais, pods)
        if conditions is None:
            return
        client.patch(API_VERSION, "AIService", owner, namespace, {"status": {"conditions": conditions}}, status=True)
        if event:
            client.event(ais, *event)
    except ApiError as exc:
        logger.warning("could not report the GPU check of %s/%s: %s", namespace, owner, exc)


@kopf.on.resume(GROUP, VERSION, "gpupools")
@kopf.on.create(GROUP, VERSION, "gpupools")
@kopf.on.update(GROUP, VERSION, "gpupools")
def reconcile_gpupool(name: str, body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status,
                      patch: kopf.Patch, memo: kopf.Memo, logger, **_: Any) -> None:
    """Apply the pool's time-slicing ConfigMap, refresh its budget status, and requeue its services
    when the pool changed (node selector, renaming and memory reach their InferenceServices)."""
    generation = meta.get("generation")
    parsed = _parse(GPUPoolSpec, spec, patch, status, generation)
    client, config = memo.client, memo.config
    configmap = timeslicing_configmap(name, meta["uid"], parsed, config.device_plugin_namespace)
    try:
        with memo.lock:
            client.apply(configmap)
            changed = status.get("observedGeneration") != generation
            new, touched = pool_status(client, name, parsed, generation, configmap_name(name), everyone=changed)
    except ApiError as exc:
        raise _retry(exc) from exc
    new["conditions"] = set_condition(status.get("conditions"), "Ready", True, "TimeSlicingConfigured",
                                      f"{parsed.replicas} shares per GPU in ConfigMap "
                                      f"{config.device_plugin_namespace}/{configmap_name(name)}", generation)
    patch.status.update(new)
    logger.info("GPUPool reconciled; requeued %s", touched)


def audit_gpupool(name: str, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, patch: kopf.Patch,
                  memo: kopf.Memo, logger, **_: Any) -> None:
    """Backstop: recount the pool's budget and requeue services whose admission would change."""
    try:
        parsed = GPUPoolSpec.model_validate(dict(spec or {}))
    except ValidationError:
        return
    try:
        with memo.lock:
            new, touched = pool_status(memo.client, name, parsed, status.get("observedGeneration"),
                                       configmap_name(name))
    except ApiError as exc:
        raise _retry(exc) from exc
    changed = {k: v for k, v in new.items() if status.get(k) != v}
    if changed:
        patch.status.update(changed)
    if touched:
        logger.info("GPUPool audit requeued %s", touched)


def audit(memo: kopf.Memo, logger) -> None:
    """One audit round: prune routes of AIServices that are gone, recount every GPUPool."""
    client = memo.client
    with memo.lock:
        pruned = prune_routes(client, memo.config)
    if pruned:
        logger.info("pruned routes of deleted AIServices: %s", pruned)
    for pool in client.list(API_VERSION, "GPUPool"):
        body = kopf.Body(pool)
        patch = kopf.Patch()
        audit_gpupool(name=body.meta["name"], spec=body.spec, meta=body.meta, status=body.status, patch=patch,
                      memo=memo, logger=logger)
        if patch.get("status"):
            client.patch(API_VERSION, "GPUPool", body.meta["name"], None, {"status": dict(patch["status"])},
                         status=True)


async def _audit_loop(memo: kopf.Memo, logger) -> None:
    while True:
        try:
            await asyncio.to_thread(audit, memo, logger)
        except (ApiError, kopf.TemporaryError) as exc:
            logger.warning("audit failed, next round in %ss: %s", AUDIT_INTERVAL, exc)
        except Exception:  # never let the backstop die
            logger.exception("audit failed, next round in %ss", AUDIT_INTERVAL)
        await asyncio.sleep(AUDIT_INTERVAL)


@kopf.on.startup()
async def start_audit(memo: kopf.Memo, logger, **_: Any) -> None:
    """Run the audit now and every AUDIT_INTERVAL seconds (an operator-wide task, not a kopf
    timer: timers put a finalizer on every GPUPool, which would block their deletion)."""
    memo.audit_task = asyncio.get_running_loop().create_task(_audit_loop(memo, logger))


@kopf.on.cleanup()
async def stop_audit(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("audit_task")
    if task is not None:
        task.cancel()
