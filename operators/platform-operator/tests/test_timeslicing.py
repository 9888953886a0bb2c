"""The NVIDIA device-plugin time-slicing ConfigMap."""

import yaml
from k8s_schemas import validate

from platform_operator.models import GPUPoolSpec
from platform_operator.timeslicing import configmap_name, timeslicing_configmap


def test_configmap_in_the_device_plugin_format(examples):
    doc = examples["gpupool-rtx5060ti"]
    spec = GPUPoolSpec.model_validate(doc["spec"])
    cm = timeslicing_configmap("rtx5060ti", "uid-1", spec, "nvidia-device-plugin")
    validate(cm)
    assert (cm["metadata"]["name"], cm["metadata"]["namespace"]) == ("time-slicing-rtx5060ti",
                                                                    "nvidia-device-plugin")
    assert configmap_name("rtx5060ti") == cm["metadata"]["name"]
    assert list(cm["data"]) == ["any"]
    assert yaml.safe_load(cm["data"]["any"]) == {
        "version": "v1",
        "flags": {"migStrategy": "none"},
        "sharing": {"timeSlicing": {
            "renameByDefault": True,
            "failRequestsGreaterThanOne": True,
            "resources": [{"name": "nvidia.com/gpu", "replicas": 4}],
        }},
    }
    assert cm["metadata"]["ownerReferences"][0] == {
        "apiVersion": "platform.ai-platform.dev/v1alpha1", "kind": "GPUPool", "name": "rtx5060ti",
        "uid": "uid-1", "controller": True, "blockOwnerDeletion": True}


def test_pool_options_reach_the_plugin_config():
    spec = GPUPoolSpec.model_validate({"gpuModel": "A10", "memoryGB": 24, "replicas": 8,
                                       "renameByDefault": False, "failRequestsGreaterThanOne": False})
    config = yaml.safe_load(timeslicing_configmap("a10", "u", spec, "gpu-operator")["data"]["any"])
    sharing = config["sharing"]["timeSlicing"]
    assert sharing["renameByDefault"] is False and sharing["failRequestsGreaterThanOne"] is False
    assert sharing["resources"] == [{"name": "nvidia.com/gpu", "replicas": 8}]
