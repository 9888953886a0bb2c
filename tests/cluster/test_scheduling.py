"""The real kube-scheduler places what the operator renders: GPU pods go to the time-sliced GPU
node while it has `nvidia.com/gpu.shared` shares, the next one stays Pending for exactly that
reason, and CPU pods stay off the GPU node (its taint).

There is no kubelet and no KServe controller here: the nodes are Node objects with a capacity in
their status, and each InferenceService's pod is made the way KServe would, from its predictor
(the PodSpec fields of it). Pods are bound, never run; they are force-deleted at the end."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from kubernetes.client import V1PodSpec
from kubernetes.client.exceptions import ApiException

from clusterkit import ISVC_API, aiservice, condition, wait_condition, wait_for

POD_FIELDS = set(V1PodSpec.attribute_map.values())
GPU_NODE, CPU_NODE = "gpu-node-0", "cpu-node-0"
SHARES = 4  # the GPUPool's replicas: what the device plugin would advertise for one GPU


@pytest.fixture
def nodes(platform, local_control_plane):
    """A GPU node (label, taint and shares as the NVIDIA device plugin with the pool's
    time-slicing config would give it) and a CPU node; only on the local control plane."""
    if not local_control_plane:
        pytest.skip("creates fake Node objects: only against the local control plane, not KUBECONFIG's cluster")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    specs = {
        GPU_NODE: ({"nvidia.com/gpu.present": "true"}, [{"key": "nvidia.com/gpu", "value": "present",
                                                          "effect": "NoSchedule"}],
                   {**base, "nvidia.com/gpu.shared": str(SHARES)}),
        CPU_NODE: ({}, [], base),
    }
    nodes = platform.resource("v1", "Node")
    for name, (labels, taints, capacity) in specs.items():
        platform.apply({"apiVersion": "v1", "kind": "Node",
                        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
                        "spec": {"taints": taints}})
        nodes.status.patch(name=name, content_type="application/merge-patch+json", body={"status": {
            "capacity": capacity, "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "fake node",
                            "lastHeartbeatTime": now, "lastTransitionTime": now}]}})
        # the API server taints a new node not-ready; the node lifecycle controller would lift it
        nodes.patch(name=name, content_type="application/merge-patch+json", body={"spec": {"taints": taints}})
    yield list(specs)
    for name in specs:
        platform.delete("v1", "Node", name)


def pod_of(isvc: dict) -> dict:
    """The predictor pod KServe would create for an InferenceService."""
    meta = isvc["metadata"]
    spec = {k: v for k, v in isvc["spec"]["predictor"].items() if k in POD_FIELDS}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{meta['name']}-predictor-0", "namespace": meta["namespace"],
                         "labels": {"serving.kserve.io/inferenceservice": meta["name"]}},
            "spec": spec}


def test_gpu_pods_are_bound_by_shares_and_cpu_pods_avoid_the_gpu_node(platform, operator, gpupool, namespace,
                                                                       nodes):
    ns = namespace
    gpu_names = [f"gpu-{i}" for i in range(SHARES + 1)]  # 5 x 2 GB fits the 15 GB budget, not 4 shares
    for name in gpu_names:
        platform.create(aiservice(name, ns, gpu_gb=2, route={"enabled": False}))
    platform.create(aiservice("cpu-only", ns, route={"enabled": False}))
    pods = []
    try:
        for name in [*gpu_names, "cpu-only"]:
            wait_condition(platform, name, ns, "Admitted", "True")
            isvc = wait_for(lambda name=name: platform.get(ISVC_API, "InferenceService", name, ns), 30,
                            what=f"{name}'s InferenceService")
            pods.append(platform.create(pod_of(isvc))["metadata"]["name"])

        def placed():
            found = {p["metadata"]["name"]: p for p in platform.list("v1", "Pod", ns)}
            bound = {n: p["spec"].get("nodeName") for n, p in found.items()}
            unschedulable = {n: condition(p, "PodScheduled") for n, p in found.items()
                             if (condition(p, "PodScheduled") or {}).get("reason") == "Unschedulable"}
            return (bound, unschedulable) if len(found) == len(pods) and all(
                node or n in unschedulable for n, node in bound.items()) else None
        bound, unschedulable = wait_for(placed, 60, what="every pod bound or unschedulable")

        on_gpu = sorted(n for n, node in bound.items() if node == GPU_NODE)
        assert len(on_gpu) == SHARES, (bound, [c["message"] for c in unschedulable.values()])
        assert bound["cpu-only-predictor-0"] == CPU_NODE
        (pending,) = unschedulable
        assert pending.startswith("gpu-") and bound[pending] is None
        message = unschedulable[pending]["message"]
        assert "Insufficient nvidia.com/gpu.shared" in message, message
        assert "untolerated taint" in message or "didn't match Pod's node affinity/selector" in message, message
    finally:
        for name in pods:
            with contextlib.suppress(ApiException):
                platform.core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
