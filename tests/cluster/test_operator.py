"""The platform operator against a live API server, as its own ServiceAccount.

The operator runs in-process (kopf.testing.KopfRunner) with a token of the ServiceAccount of
deploy/rbac.yaml, so every call it makes passes the real RBAC of that file: a verb left out
shows up as a 403 in its log (checked when it stops) or as a state that never comes.
KServe's controller is not installed; InferenceServices are stored under a stand-in CRD with
KServe's group, version, kind and scope (see the `platform` fixture), so the objects the
operator writes are real API objects, garbage-collected by their owner references.
"""

from __future__ import annotations

import yaml

from clusterkit import (API, DEVICE_PLUGIN_NAMESPACE, ISVC_API, aiservice, condition, get_ais, routes, wait_condition,
                        wait_for)

def test_gpupool_writes_the_time_slicing_configmap(platform, operator, gpupool):
    cm_name = f"time-slicing-{gpupool}"
    cm = wait_for(lambda: platform.get("v1", "ConfigMap", cm_name, DEVICE_PLUGIN_NAMESPACE), 30,
                  what="time-slicing ConfigMap")
    config = yaml.safe_load(cm["data"]["any"])
    assert config == {"version": "v1", "flags": {"migStrategy": "none"},
                      "sharing": {"timeSlicing": {"renameByDefault": True, "failRequestsGreaterThanOne": True,
                                                  "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}}
    pool = platform.get(API, "GPUPool", gpupool)
    assert cm["metadata"]["ownerReferences"][0]["uid"] == pool["metadata"]["uid"]
    status = wait_for(lambda: (platform.get(API, "GPUPool", gpupool).get("status") or {}).get("capacityGB") and
                      platform.get(API, "GPUPool", gpupool)["status"], 30, what="GPUPool status")
    assert status["capacityGB"] == 15
    assert status["configMap"] == cm_name
    # the garbage collector removes the ConfigMap with its (cluster-scoped) pool
    platform.delete(API, "GPUPool", gpupool)
    wait_for(lambda: platform.gone("v1", "ConfigMap", cm_name, DEVICE_PLUGIN_NAMESPACE), 60,
             what="time-slicing ConfigMap garbage-collected")


def test_admission_by_gpu_budget_routes_and_release(platform, operator, gpupool, namespace):
    """Two 6 GB services fit the 15 GB budget, the third waits with the numbers; deleting one
    admits the waiting one without a restart, and removes its InferenceService and route."""
    ns = namespace
    first = aiservice("speech", ns, task="transcription", gpu_gb=6)
    second = aiservice("statements", ns, task="statement-extraction", gpu_gb=6)
    platform.create(first)
    wait_condition(platform, "speech", ns, "Admitted", "True")  # creation order decides who waits
    platform.create(second)
    wait_condition(platform, "statements", ns, "Admitted", "True")
    platform.create(aiservice("docqa", ns, task="document-qa", gpu_gb=6))

    refused = wait_condition(platform, "docqa", ns, "GPUBudgetExceeded", "True")
    assert refused["message"] == (f"needs 6 GB; does not fit GPUPool {gpupool}: capacity 15 GB (memory minus "
                                  "reserve), 12 GB held by other services, 3 GB free")
    assert condition(get_ais(platform, "docqa", ns), "Admitted")["status"] == "False"
    assert platform.gone(ISVC_API, "InferenceService", "docqa", ns)

    for name, resource in (("speech", "transcriptions"), ("statements", "statements")):
        ais = get_ais(platform, name, ns)
        route_cond = wait_condition(platform, name, ns, "RouteRegistered", "True")
        assert route_cond["message"] == f"gateway serves /api/v1/{resource}"
        assert condition(ais, "GPUBudgetExceeded") is None
        assert ais["status"]["pool"] == gpupool
        # conditions went through the status subresource
        assert any(m.get("subresource") == "status" for m in ais["metadata"]["managedFields"])
        isvc = platform.get(ISVC_API, "InferenceService", name, ns)
        container = isvc["spec"]["predictor"]["containers"][0]
        assert container["resources"]["limits"]["nvidia.com/gpu.shared"] == "1"
        assert container["resources"]["requests"]["nvidia.com/gpu.shared"] == "1"
        assert isvc["spec"]["predictor"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        owner = isvc["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "AIService", name, ais["metadata"]["uid"], True)
    table = wait_for(lambda: (t := routes(platform)) and {"speech", "statements"} <= set(t) and t, 30,
                     what="routes of speech and statements")
    assert "docqa" not in table
    assert table["speech"]["upstream"] == f"http://speech-predictor.{ns}.svc.cluster.local"
    assert table["speech"]["path"] == "/api/v1/transcriptions"

    # freeing budget admits the waiting service, with no restart of the operator
    platform.delete(API, "AIService", "speech", ns)
    admitted = wait_condition(platform, "docqa", ns, "Admitted", "True")
    assert "fits GPUPool" in admitted["message"]
    assert condition(get_ais(platform, "docqa", ns), "GPUBudgetExceeded") is None
    wait_for(lambda: platform.get(ISVC_API, "InferenceService", "docqa", ns), 30, what="docqa InferenceService")
    wait_for(lambda: platform.gone(API, "AIService", "speech", ns), 30, what="speech AIService gone")
    wait_for(lambda: platform.gone(ISVC_API, "InferenceService", "speech", ns), 30,
             what="speech InferenceService gone")
    table = wait_for(lambda: (t := routes(platform)) and "speech" not in t and "docqa" in t and t, 30,
                     what="route table without speech, with docqa")
    assert table["statements"]["resource"] == "statements"


def test_cpu_service_is_admitted_without_a_pool(platform, operator, namespace):
    platform.create(aiservice("translator", namespace, task="translation"))
    cond = wait_condition(platform, "translator", namespace, "Admitted", "True")
    assert cond["reason"] == "NoGPURequested"
    isvc = wait_for(lambda: platform.get(ISVC_API, "InferenceService", "translator", namespace), 30,
                    what="InferenceService")
    limits = isvc["spec"]["predictor"]["containers"][0]["resources"]["limits"]
    assert not any(k.startswith("nvidia.com/") for k in limits)
    wait_condition(platform, "translator", namespace, "RouteRegistered", "True")
    assert routes(platform)["translator"]["resource"] == "translations"
