"""Deletion on a live API server: the operator's finalizer, a restart of the operator, and the
garbage collector (kube-controller-manager) honouring the owner references the operator sets.

InferenceServices live under the stand-in CRD of the `platform` fixture (no KServe controller)."""

from __future__ import annotations

from clusterkit import API, ISVC_API, aiservice, condition, get_ais, routes, wait_condition, wait_for


def test_delete_while_the_operator_is_stopped_leaves_nothing_behind(platform, operator, gpupool, namespace):
    ns = namespace
    platform.create(aiservice("alpha", ns, gpu_gb=10))
    wait_condition(platform, "alpha", ns, "RouteRegistered", "True")
    platform.create(aiservice("beta", ns, gpu_gb=10))
    wait_condition(platform, "beta", ns, "GPUBudgetExceeded", "True")
    assert get_ais(platform, "alpha", ns)["metadata"]["finalizers"] == ["platform.ai-platform.dev/finalizer"]

    operator.stop()
    platform.delete(API, "AIService", "alpha", ns)
    held = get_ais(platform, "alpha", ns)
    assert held is not None and held["metadata"].get("deletionTimestamp"), "the finalizer holds the AIService"
    assert platform.get(ISVC_API, "InferenceService", "alpha", ns) is not None
    assert "alpha" in routes(platform)

    operator.start()
    wait_for(lambda: platform.gone(API, "AIService", "alpha", ns), 60, what="alpha gone after the restart")
    wait_for(lambda: platform.gone(ISVC_API, "InferenceService", "alpha", ns), 30, what="alpha's InferenceService gone")
    wait_for(lambda: "alpha" not in routes(platform), 30, what="alpha's route gone")
    # its budget went to the waiting service
    wait_condition(platform, "beta", ns, "Admitted", "True")
    assert condition(get_ais(platform, "beta", ns), "GPUBudgetExceeded") is None
    wait_for(lambda: platform.get(ISVC_API, "InferenceService", "beta", ns), 30, what="beta's InferenceService")
    wait_for(lambda: "beta" in routes(platform), 30, what="beta's route")


def test_garbage_collector_removes_an_orphaned_inference_service(platform, operator, namespace):
    """With the operator gone for good (finalizer removed by hand), the garbage collector still
    deletes the InferenceService: its owner reference names the AIService correctly."""
    ns = namespace
    platform.create(aiservice("orphan", ns, route={"enabled": False}))
    wait_condition(platform, "orphan", ns, "Admitted", "True")
    isvc = wait_for(lambda: platform.get(ISVC_API, "InferenceService", "orphan", ns), 30, what="InferenceService")
    assert isvc["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is True

    operator.stop()
    resource = platform.resource(API, "AIService")
    resource.patch(name="orphan", namespace=ns, body={"metadata": {"finalizers": None}},
                   content_type="application/merge-patch+json")
    platform.delete(API, "AIService", "orphan", ns)
    wait_for(lambda: platform.gone(API, "AIService", "orphan", ns), 30, what="AIService gone")
    wait_for(lambda: platform.gone(ISVC_API, "InferenceService", "orphan", ns), 60,
             what="InferenceService garbage-collected")
