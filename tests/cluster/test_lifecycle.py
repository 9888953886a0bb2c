"""Deletion on a live API server with the operator down: nothing waits for the operator (it puts
no finalizer on anything), the garbage collector (kube-controller-manager) removes the
InferenceService by the owner reference the operator set, and the operator, started again,
prunes the stale route and admits the service that waited for the memory.

InferenceServices live under the stand-in CRD of the `platform` fixture (no KServe controller)."""

from __future__ import annotations

from clusterkit import API, ISVC_API, aiservice, condition, get_ais, routes, wait_condition, wait_for


def test_delete_while_the_operator_is_stopped_leaves_nothing_behind(platform, operator, gpupool, namespace):
    ns = namespace
    platform.create(aiservice("alpha", ns, gpu_gb=10))
    wait_condition(platform, "alpha", ns, "RouteRegistered", "True")
    platform.create(aiservice("beta", ns, gpu_gb=10))
    wait_condition(platform, "beta", ns, "GPUBudgetExceeded", "True")
    assert not get_ais(platform, "alpha", ns)["metadata"].get("finalizers")
    isvc = platform.get(ISVC_API, "InferenceService", "alpha", ns)
    assert isvc["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is True

    operator.stop()
    platform.delete(API, "AIService", "alpha", ns)
    wait_for(lambda: platform.gone(API, "AIService", "alpha", ns), 10, what="alpha deleted at once")
    wait_for(lambda: platform.gone(ISVC_API, "InferenceService", "alpha", ns), 60,
             what="alpha's InferenceService garbage-collected with the operator down")
    assert "alpha" in routes(platform)  # nobody to remove it yet
    assert condition(get_ais(platform, "beta", ns), "Admitted")["status"] == "False"

    operator.start()
    wait_for(lambda: "alpha" not in routes(platform), 30, what="alpha's route pruned after the restart")
    wait_condition(platform, "beta", ns, "Admitted", "True")
    assert condition(get_ais(platform, "beta", ns), "GPUBudgetExceeded") is None
    wait_for(lambda: platform.get(ISVC_API, "InferenceService", "beta", ns), 30, what="beta's InferenceService")
    wait_for(lambda: "beta" in routes(platform), 30, what="beta's route")
