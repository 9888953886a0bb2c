"""Kopf handlers called directly with kopf's own argument objects and a recording API client."""

import copy
import json
import logging

import kopf
import pytest
from conftest import kopf_kwargs, load_example, make_object
from k8s_schemas import validate, validate_inference_service

from platform_operator import handlers
from platform_operator.client import ApiError
from platform_operator.conditions import find
from platform_operator.reconcile import REQUEUE_ANNOTATION

AIS = ("platform.ai-platform.dev/v1alpha1", "AIService")
ISVC = ("serving.kserve.io/v1beta1", "InferenceService")


def service(name, task="custom", gpu=None, created=1, **spec):
    doc = {"apiVersion": AIS[0], "kind": "AIService", "metadata": {"name": name, "namespace": "ai-platform"},
           "spec": {"task": task, "image": f"example/{name}:1", **spec}}
    if gpu is not None:
        doc["spec"]["gpu"] = {"memoryGB": gpu}
    return make_object(doc, uid=f"uid-{name}", created=f"2026-01-01T00:00:{created:02d}Z")


def stored(client, name, kind=AIS, namespace="ai-platform"):
    return client.store.get((*kind, namespace, name))


def reconcile(client, memo, name):
    """Run the AIService handler on the stored object and apply its status patch, as kopf would."""
    obj = stored(client, name)
    kwargs = kopf_kwargs(obj, memo)
    try:
        handlers.reconcile_aiservice(**kwargs)
    finally:
        live = stored(client, name)
        for key, value in kwargs["patch"].get("status", {}).items():
            if value is None:
                live.setdefault("status", {}).pop(key, None)
            else:
                live.setdefault("status", {})[key] = value
    return kwargs["patch"]


def routes(client):
    cm = stored(client, "ai-platform-gateway-routes", ("v1", "ConfigMap"))
    return json.loads(cm["data"]["routes.json"])["routes"] if cm else []


@pytest.fixture
def pool(client):
    doc = load_example("gpupool-rtx5060ti.yaml")
    return client.put(make_object(doc, uid="uid-pool", created="2026-01-01T00:00:00Z"))


def test_cpu_service_is_applied_routed_and_admitted(client, memo):
    client.put(service("translation", "translation"))
    patch = reconcile(client, memo, "translation")
    (isvc,) = client.applied("InferenceService")
    validate_inference_service(isvc)
    assert isvc["metadata"]["ownerReferences"][0]["uid"] == "uid-translation"
    (cm,) = client.applied("ConfigMap")
    validate(cm)
    assert [r["name"] for r in routes(client)] == ["translation"]
    status = patch["status"]
    assert find(status["conditions"], "Admitted")["reason"] == "NoGPURequested"
    assert find(status["conditions"], "Ready")["status"] == "Unknown"
    assert find(status["conditions"], "RouteRegistered")["status"] == "True"
    assert status["observedGeneration"] == 1 and status["route"] == "/api/v1/translations"
    assert client.events == [("translation", "Normal", "Admitted", "CPU-only service")]


def test_reconcile_is_idempotent_on_re_entry(client, memo):
    client.put(service("translation", "translation"))
    first = reconcile(client, memo, "translation")
    client.calls.clear()
    second = reconcile(client, memo, "translation")
    assert [c[1]["kind"] for c in client.of("apply")] == ["InferenceService"]  # route table unchanged: no write
    assert client.of("event") == []  # admitted already: no second Admitted event
    assert second["status"]["conditions"] == first["status"]["conditions"]  # transition times kept


def test_ready_and_url_are_mirrored_from_the_live_inference_service(client, memo):
    client.put(service("translation", "translation"))
    reconcile(client, memo, "translation")
    isvc = stored(client, "translation", ISVC)
    isvc["status"] = {"url": "http://translation.ai-platform.example.com",
                      "conditions": [{"type": "Ready", "status": "True"}]}
    patch = reconcile(client, memo, "translation")
    assert find(patch["status"]["conditions"], "Ready")["status"] == "True"
    assert patch["status"]["url"] == "http://translation.ai-platform.example.com"


def test_gpu_budget_admission_refusal_and_release(client, memo, pool):
    client.put(service("audio", "transcription", gpu=2, created=1))
    client.put(service("vlm", "statement-extraction", gpu=8, created=2))
    client.put(service("big", gpu=6, created=3))
    for name in ("audio", "vlm"):
        status = reconcile(client, memo, name)["status"]
        assert find(status["conditions"], "Admitted")["status"] == "True" and status["pool"] == "rtx5060ti"
    shared = client.applied("InferenceService")[0]["spec"]["predictor"]["containers"][0]["resources"]["limits"]
    assert shared["nvidia.com/gpu.shared"] == "1"
    client.calls.clear()

    status = reconcile(client, memo, "big")["status"]
    assert client.applied("InferenceService") == []
    assert ("delete", *ISVC, "big", "ai-platform") in client.calls
    exceeded = find(status["conditions"], "GPUBudgetExceeded")
    assert exceeded["status"] == "True"
    assert "needs 6 GB" in exceeded["message"] and "capacity 15 GB" in exceeded["message"]
    assert "10 GB held" in exceeded["message"] and "5 GB free" in exceeded["message"]
    assert find(status["conditions"], "Admitted")["reason"] == "GPUBudgetExceeded"
    assert client.events[-1][:3] == ("big", "Warning", "GPUBudgetExceeded")
    assert [r["name"] for r in routes(client)] == ["audio", "vlm"]

    client.calls.clear()
    vlm = stored(client, "vlm")
    handlers.delete_aiservice(**kopf_kwargs({**vlm, "metadata": {**vlm["metadata"],
                                             "deletionTimestamp": "2026-01-01T01:00:00Z"}}, memo))
    client.store.pop((*AIS, "ai-platform", "vlm"))
    assert ("delete", *ISVC, "vlm", "ai-platform") in client.calls
    assert [r["name"] for r in routes(client)] == ["audio"]
    (requeued,) = client.of("patch")
    assert requeued[3] == "big" and REQUEUE_ANNOTATION in requeued[5]["metadata"]["annotations"]

    status = reconcile(client, memo, "big")["status"]
    assert find(status["conditions"], "Admitted")["status"] == "True"
    assert find(status["conditions"], "GPUBudgetExceeded") is None
    assert stored(client, "big", ISVC) is not None
    assert [r["name"] for r in routes(client)] == ["audio", "big"]


def test_a_service_that_outgrows_the_pool_is_withdrawn(client, memo, pool):
    client.put(service("audio", "transcription", gpu=2))
    reconcile(client, memo, "audio")
    assert stored(client, "audio", ISVC) is not None
    client.store[(*AIS, "ai-platform", "audio")]["spec"]["scaling"] = {"maxReplicas": 8}  # 16 GB > 15 GB
    status = reconcile(client, memo, "audio")["status"]
    assert stored(client, "audio", ISVC) is None and routes(client) == []
    assert find(status["conditions"], "Admitted")["status"] == "False"
    assert status["url"] is None and status["route"] is None  # cleared by the merge patch


def test_gpu_service_without_a_pool_retries(client, memo):
    client.put(service("audio", "transcription", gpu=2))
    with pytest.raises(kopf.TemporaryError) as raised:
        reconcile(client, memo, "audio")
    assert raised.value.delay == handlers.NO_POOL_DELAY
    assert find(stored(client, "audio")["status"]["conditions"], "Admitted")["reason"] == "NoGPUPool"
    assert client.events[-1][:3] == ("audio", "Warning", "NoGPUPool")
    assert client.applied("InferenceService") == []


def test_invalid_spec_is_a_permanent_error_with_a_condition(client, memo):
    client.put(service("broken", scaling={"minReplicas": 0}))
    with pytest.raises(kopf.PermanentError, match="Knative"):
        reconcile(client, memo, "broken")
    cond = find(stored(client, "broken")["status"]["conditions"], "Admitted")
    assert (cond["status"], cond["reason"]) == ("False", "InvalidSpec")
    assert client.calls == []


@pytest.mark.parametrize("method", ["apply", "get", "list"])
def test_api_failures_become_temporary_errors(client, memo, pool, method):
    client.put(service("audio", "transcription", gpu=2))
    client.fail[method] = ApiError(503, "Service Unavailable")
    with pytest.raises(kopf.TemporaryError, match="503") as raised:
        reconcile(client, memo, "audio")
    assert raised.value.delay == handlers.RETRY_DELAY


def test_a_namespace_being_deleted_is_left_alone(client, memo, pool):
    """The API server refuses new content in a terminating namespace with 403; that is no
    permission problem and nothing to retry: the AIService goes with its namespace."""
    client.put(service("audio", "transcription", gpu=2))
    client.fail["apply"] = ApiError(403, "Forbidden: unable to create new content in namespace ml "
                                         "because it is being terminated")
    reconcile(client, memo, "audio")  # no TemporaryError
    client.fail["apply"] = ApiError(403, "Forbidden: inferenceservices is forbidden")
    with pytest.raises(kopf.TemporaryError, match="403"):  # a real refusal still retries and shows
        reconcile(client, memo, "audio")


def test_concurrent_route_table_change_is_retried(client, memo):
    client.put(service("translation", "translation"))
    real_get = client.get

    def stale_get(api_version, kind, name, namespace=None):
        found = real_get(api_version, kind, name, namespace)
        if kind == "ConfigMap":
            client.put({"apiVersion": "v1", "kind": "ConfigMap",  # someone else writes in between
                        "metadata": {"name": name, "namespace": namespace}, "data": {}})
        return found

    client.put({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "ai-platform-gateway-routes", "namespace": "ai-platform"}, "data": {}})
    client.get = stale_get
    with pytest.raises(kopf.TemporaryError, match="409"):
        reconcile(client, memo, "translation")


def test_route_conflict_is_reported_but_the_service_runs(client, memo):
    client.put(service("audio", "transcription"))
    client.put(service("audio-b", "transcription", created=2))
    reconcile(client, memo, "audio")
    status = reconcile(client, memo, "audio-b")["status"]
    cond = find(status["conditions"], "RouteRegistered")
    assert (cond["status"], cond["reason"]) == ("False", "RouteConflict")
    assert stored(client, "audio-b", ISVC) is not None
    assert [r["name"] for r in routes(client)] == ["audio"]
    assert client.events[-1][:3] == ("audio-b", "Warning", "RouteConflict")


def test_disabling_the_route_removes_it(client, memo):
    client.put(service("translation", "translation"))
    reconcile(client, memo, "translation")
    client.store[(*AIS, "ai-platform", "translation")]["spec"]["route"] = {"enabled": False}
    status = reconcile(client, memo, "translation")["status"]
    assert routes(client) == [] and find(status["conditions"], "RouteRegistered") is None


def test_delete_keeps_other_routes(client, memo):
    for i, name in enumerate(["audio", "translation"]):
        client.put(service(name, "transcription" if name == "audio" else "translation", created=i))
        reconcile(client, memo, name)
    handlers.delete_aiservice(**kopf_kwargs(stored(client, "audio"), memo))
    assert [r["name"] for r in routes(client)] == ["translation"]
    assert stored(client, "audio", ISVC) is None and stored(client, "translation", ISVC) is not None


def test_deleted_event_cleans_up_other_events_do_nothing(client, memo, pool):
    client.put(service("audio", "transcription", gpu=8, created=1))
    client.put(service("vlm", "statement-extraction", gpu=8, created=2))
    for name in ("audio", "vlm"):
        reconcile(client, memo, name)
    audio = stored(client, "audio")
    client.calls.clear()
    for event_type in ("ADDED", "MODIFIED", None):
        handlers.forget_deleted_aiservice(**kopf_kwargs(audio, memo, type=event_type, event={"type": event_type}))
    assert client.calls == []
    client.store.pop((*AIS, "ai-platform", "audio"))
    handlers.forget_deleted_aiservice(**kopf_kwargs(audio, memo, type="DELETED", event={"type": "DELETED"}))
    assert ("delete", *ISVC, "audio", "ai-platform") in client.calls
    assert routes(client) == []
    (requeued,) = client.of("patch")
    assert requeued[3] == "vlm"


def test_deleted_event_failure_is_logged_not_raised(client, memo, caplog):
    client.put(service("audio", "transcription"))
    reconcile(client, memo, "audio")
    client.fail["delete"] = ApiError(403, "Forbidden")
    with caplog.at_level(logging.WARNING):
        handlers.forget_deleted_aiservice(**kopf_kwargs(stored(client, "audio"), memo, type="DELETED",
                                                        event={"type": "DELETED"}))
    assert "the audit retries it" in caplog.text


def test_audit_prunes_routes_of_deleted_services_and_recounts_pools(client, memo, pool):
    kwargs = kopf_kwargs(pool, memo)
    handlers.reconcile_gpupool(**kwargs)
    client.put({**pool, "status": kwargs["patch"]["status"]})
    for i, name in enumerate(["audio", "translation"]):
        client.put(service(name, "transcription" if name == "audio" else "translation", created=i,
                           gpu=2 if name == "audio" else None))
        reconcile(client, memo, name)
    table = json.loads(stored(client, "ai-platform-gateway-routes", ("v1", "ConfigMap"))["data"]["routes.json"])
    table["routes"].append({"name": "by-hand", "kind": "custom", "resource": "by-hand", "path": "/api/v1/by-hand",
                            "upstream": "http://10.0.0.9:8080", "model": "x"})
    cm = stored(client, "ai-platform-gateway-routes", ("v1", "ConfigMap"))
    cm["data"]["routes.json"] = json.dumps(table)
    client.store.pop((*AIS, "ai-platform", "translation"))  # deleted while the operator was down
    client.calls.clear()
    handlers.audit(memo, logging.getLogger("test.audit"))
    assert [r["name"] for r in routes(client)] == ["audio", "by-hand"]
    (status_patch,) = [c for c in client.of("patch") if c[2] == "GPUPool"]
    assert status_patch[5]["status"]["allocatedGB"] == 2
    client.calls.clear()
    handlers.audit(memo, logging.getLogger("test.audit"))
    assert client.of("patch") == [] and client.applied("ConfigMap") == []


def _isvc_event(client, memo, name, event_type, status):
    body = copy.deepcopy(stored(client, name, ISVC))
    body["status"] = status
    handlers.mirror_inference_service(**kopf_kwargs(body, memo, type=event_type, event={"type": event_type}))


def test_inference_service_events_mirror_readiness(client, memo):
    client.put(service("translation", "translation"))
    reconcile(client, memo, "translation")
    client.calls.clear()
    ready = {"url": "http://translation.example", "conditions": [{"type": "Ready", "status": "True"}]}
    _isvc_event(client, memo, "translation", "MODIFIED", ready)
    (call,) = client.of("patch")
    assert call[1:5] == (*AIS, "translation", "ai-platform") and call[6] is True
    status = stored(client, "translation")["status"]
    assert find(status["conditions"], "Ready")["status"] == "True" and status["url"] == "http://translation.example"
    _isvc_event(client, memo, "translation", "MODIFIED", ready)
    assert len(client.of("patch")) == 1  # unchanged: no write
    _isvc_event(client, memo, "translation", "DELETED", {})
    assert find(stored(client, "translation")["status"]["conditions"], "Ready")["status"] == "Unknown"


def test_inference_service_events_leave_unadmitted_services_alone(client, memo, pool):
    client.put(service("big", gpu=20))
    reconcile(client, memo, "big")
    client.put({**ISVC_BODY, "metadata": {**ISVC_BODY["metadata"], "name": "big",
                                          "labels": {"platform.ai-platform.dev/aiservice": "big"}}})
    client.calls.clear()
    _isvc_event(client, memo, "big", "MODIFIED", {"conditions": [{"type": "Ready", "status": "True"}]})
    assert client.of("patch") == []


ISVC_BODY = {"apiVersion": ISVC[0], "kind": ISVC[1], "metadata": {"namespace": "ai-platform"}}


def test_gpupool_applies_time_slicing_and_reports_budget(client, memo, pool):
    client.put(service("audio", "transcription", gpu=2, created=1))
    client.put(service("big", gpu=14, created=2))
    reconcile(client, memo, "audio")
    reconcile(client, memo, "big")
    client.calls.clear()
    kwargs = kopf_kwargs(pool, memo)
    handlers.reconcile_gpupool(**kwargs)
    (cm,) = client.applied("ConfigMap")
    validate(cm)
    assert cm["metadata"]["namespace"] == "nvidia-device-plugin" and "replicas: 4" in cm["data"]["any"]
    status = kwargs["patch"]["status"]
    assert (status["capacityGB"], status["allocatedGB"]) == (15, 2)
    assert status["admitted"] == ["ai-platform/audio"] and status["waiting"] == ["ai-platform/big"]
    assert find(status["conditions"], "Ready")["reason"] == "TimeSlicingConfigured"
    assert sorted(c[3] for c in client.of("patch")) == ["audio", "big"]  # new pool generation: all requeued

    settled = copy.deepcopy(pool)
    settled["status"] = status
    client.calls.clear()
    handlers.reconcile_gpupool(**kopf_kwargs(settled, memo))
    assert client.of("patch") == []  # same generation, nothing would change: nobody requeued

    grown = copy.deepcopy(settled)
    grown["spec"]["memoryGB"] = 24
    kwargs = kopf_kwargs(grown, memo)
    handlers.reconcile_gpupool(**kwargs)
    assert [c[3] for c in client.of("patch")] == ["big"]  # now fits: requeued for admission


def test_pool_rename_change_reaches_admitted_services(client, memo, pool):
    client.put(service("audio", "transcription", gpu=2))
    reconcile(client, memo, "audio")
    renamed = copy.deepcopy(pool)
    renamed["spec"]["renameByDefault"] = False
    renamed["metadata"]["generation"] = 2
    renamed["status"] = {"observedGeneration": 1}
    client.store[("platform.ai-platform.dev/v1alpha1", "GPUPool", "", "rtx5060ti")] = renamed
    client.calls.clear()
    handlers.reconcile_gpupool(**kopf_kwargs(renamed, memo))
    assert [c[3] for c in client.of("patch")] == ["audio"]
    reconcile(client, memo, "audio")
    limits = stored(client, "audio", ISVC)["spec"]["predictor"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1" and "nvidia.com/gpu.shared" not in limits


def test_gpupool_audit_writes_only_changes(client, memo, pool):
    kwargs = kopf_kwargs(pool, memo)
    handlers.reconcile_gpupool(**kwargs)
    settled = copy.deepcopy(pool)
    settled["status"] = kwargs["patch"]["status"]
    audit = kopf_kwargs(settled, memo)
    handlers.audit_gpupool(**audit)
    assert dict(audit["patch"]) == {}
    client.put(service("audio", "transcription", gpu=2))
    reconcile(client, memo, "audio")
    audit = kopf_kwargs(settled, memo)
    handlers.audit_gpupool(**audit)
    assert audit["patch"]["status"] == {"allocatedGB": 2, "admitted": ["ai-platform/audio"]}


def test_invalid_gpupool_is_permanent(client, memo):
    doc = make_object({"apiVersion": AIS[0], "kind": "GPUPool", "metadata": {"name": "bad"},
                       "spec": {"gpuModel": "x", "memoryGB": 4, "reserveGB": 5}}, uid="u", created="")
    kwargs = kopf_kwargs(doc, memo)
    with pytest.raises(kopf.PermanentError, match="reserveGB"):
        handlers.reconcile_gpupool(**kwargs)
    assert find(kwargs["patch"]["status"]["conditions"], "Ready")["reason"] == "InvalidSpec"


def test_startup_configures_kopf_and_keeps_an_injected_client(client, memo):
    settings = kopf.OperatorSettings()
    handlers.configure(settings=settings, memo=memo, logger=logging.getLogger("t"))
    assert memo.client is client
    assert settings.persistence.finalizer == "platform.ai-platform.dev/finalizer"
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert settings.posting.level == logging.WARNING


def test_a_name_kserve_cannot_use_is_refused(client, memo):
    client.put(service("9-lives"))
    with pytest.raises(kopf.PermanentError, match="DNS-1035"):
        reconcile(client, memo, "9-lives")
    assert find(stored(client, "9-lives")["status"]["conditions"], "Admitted")["reason"] == "InvalidSpec"
    assert client.calls == []
