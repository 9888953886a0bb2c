"""k8s/: the kind cluster config, the device-plugin values pointing at the ConfigMap the operator
writes for the chart's GPUPool, the pinned versions of the install scripts."""

from __future__ import annotations

import re
import subprocess

import kubernetes_validate
import pytest
import yaml
from chartkit import CHARTS, ROOT, UMBRELLA, load_yaml, name, of_kind, operator_render

K8S = ROOT / "k8s"
SCRIPTS = sorted(K8S.glob("*/*.sh"))


def versions() -> dict[str, str]:
    text = (K8S / "kserve" / "versions.env").read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Z0-9_]+)=(\S+)$", text, re.M))


def test_kind_cluster_maps_ingress_ports_and_the_model_cache():
    (cluster,) = load_yaml(K8S / "kind" / "cluster.yaml")
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4" and cluster["kind"] == "Cluster"
    (node,) = cluster["nodes"]
    assert {(m["containerPort"], m["hostPort"]) for m in node["extraPortMappings"]} == {(80, 80), (443, 443)}
    assert "ingress-ready=true" in node["kubeadmConfigPatches"][0]
    assert [m["containerPath"] for m in node["extraMounts"]] == ["/mnt/models"]
    assert node["image"] == versions()["KIND_NODE_IMAGE"]


def test_device_plugin_reads_the_operators_time_slicing_configmap(helm):
    """Render the GPU flavour, let the operator render its GPUPool: the ConfigMap it writes is the
    one the device plugin's values name, in the namespace the operator chart gives it."""
    objects = helm.template(UMBRELLA, [CHARTS / UMBRELLA / "ci" / "gpu-values.yaml"])
    pools = of_kind(objects, "GPUPool")
    assert [name(p) for p in pools] == ["rtx5060ti"]
    operator_values = yaml.safe_load((CHARTS / "platform-operator" / "values.yaml").read_text())
    namespace = operator_values["devicePlugin"]["namespace"]
    made, _ = operator_render(pools, env={"OPERATOR_DEVICE_PLUGIN_NAMESPACE": namespace})
    (configmap,) = of_kind(made, "ConfigMap")
    values = yaml.safe_load((K8S / "gpu" / "device-plugin-values.yaml").read_text())
    assert values["config"]["name"] == name(configmap)
    assert configmap["metadata"]["namespace"] == namespace
    assert values["config"]["default"] in configmap["data"]
    plugin_config = yaml.safe_load(configmap["data"][values["config"]["default"]])
    sharing = plugin_config["sharing"]["timeSlicing"]
    assert sharing["resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    assert values["nodeSelector"] == pools[0]["spec"]["nodeSelector"]
    roles = [r for r in of_kind(objects, "Role") if r["metadata"]["namespace"] == namespace]
    assert roles, "the operator needs its Role in the device plugin's namespace"


def test_runtime_class_is_valid():
    for obj in load_yaml(K8S / "k3s" / "runtimeclass-nvidia.yaml"):
        kubernetes_validate.validate(obj, "1.37.0", strict=True)
    values = yaml.safe_load((K8S / "gpu" / "device-plugin-values.yaml").read_text())
    assert values["runtimeClassName"] == name(load_yaml(K8S / "k3s" / "runtimeclass-nvidia.yaml")[0])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(K8S)))
def test_scripts_parse_and_use_only_pinned_versions(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    pinned = versions()
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*_VERSION|KIND_NODE_IMAGE)\}?", text))
    assert used <= set(pinned), used - set(pinned)
    assert "latest" not in text
    assert "set -euo pipefail" in text


def test_versions_are_pinned_in_one_place():
    pinned = versions()
    assert {"CERT_MANAGER_VERSION", "KSERVE_VERSION", "KNATIVE_VERSION", "NVIDIA_DEVICE_PLUGIN_VERSION"} <= set(pinned)
    for key, value in pinned.items():
        assert re.search(r"\d+\.\d+", value) and "latest" not in value, f"{key}={value}"
    install = (K8S / "kserve" / "install.sh").read_text()
    assert "deploymentMode=Standard" in install and "deploymentMode=Knative" in install
