"""The NVIDIA device-plugin time-slicing ConfigMap of a GPUPool."""

from __future__ import annotations

import yaml

from . import API_VERSION
from .models import GPUPoolSpec
from .render import GPU_RESOURCE, MANAGED_BY

CONFIG_KEY = "any"  # the device plugin's config.default points at this key


def configmap_name(pool: str) -> str:
    """Name of a pool's ConfigMap; give it to the device plugin as config.name."""
    return f"time-slicing-{pool}"


def plugin_config(spec: GPUPoolSpec) -> dict:
    """The device plugin's config file (version v1) that time-slices every GPU into replicas."""
    return {
        "version": "v1",
        "flags": {"migStrategy": "none"},
        "sharing": {"timeSlicing": {
            "renameByDefault": spec.rename_by_default,
            "failRequestsGreaterThanOne": spec.fail_requests_greater_than_one,
            "resources": [{"name": GPU_RESOURCE, "replicas": spec.replicas}],
        }},
    }


def timeslicing_configmap(name: str, uid: str, spec: GPUPoolSpec, namespace: str) -> dict:
    """ConfigMap owned by the (cluster-scoped) GPUPool, so deleting the pool deletes it."""
    owner = {"apiVersion": API_VERSION, "kind": "GPUPool", "name": name, "uid": uid,
             "controller": True, "blockOwnerDeletion": True}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": configmap_name(name), "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "time-slicing", **MANAGED_BY,
                                "platform.ai-platform.dev/gpupool": name},
                     "ownerReferences": [owner]},
        "data": {CONFIG_KEY: yaml.safe_dump(plugin_config(spec), sort_keys=False)},
    }
