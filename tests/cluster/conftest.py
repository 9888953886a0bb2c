"""The live cluster the tests run against, and the platform installed in it.

With KUBECONFIG set, the tests use that cluster (kind, k3s, cloud). Otherwise they build (once
per version, cached) and start the control plane of tests/cluster/controlplane: embedded etcd,
kube-apiserver, kube-controller-manager and kube-scheduler on loopback ports, and stop it after
the session.

    $(bash scripts/venv.sh tests/cluster)/bin/python -m pytest tests/cluster

CONTROLPLANE_BIN names an already built binary (scripts/run_tests.py builds it and says how long
the build took).
"""

from __future__ import annotations

import os
import uuid
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from kit.testing import ServerProcess

from clusterkit import (API, DEVICE_PLUGIN_NAMESPACE, OPERATOR, OPERATOR_NAMESPACE, Cluster, OperatorControl,
                        operator_kubeconfig, wait_for)

HERE = Path(__file__).resolve().parent
EXTERNAL = os.environ.get("KUBECONFIG")
# The operator's kubernetes client reads KUBECONFIG once, at import; the tests pass paths explicitly.
os.environ.pop("KUBECONFIG", None)


class ControlPlane(ServerProcess):
    """`controlplane up --dir DIR` as a real process; ready when /readyz answers through the
    admin kubeconfig it writes."""

    def __init__(self, binary: str, state: Path):
        self.state = state
        self.kubeconfig = state / "admin.kubeconfig"
        super().__init__([binary, "up", "--dir", str(state)], name="controlplane")

    def start(self, timeout: float = 180.0) -> ControlPlane:
        super().start()
        try:
            wait_for(lambda: self._ready(), timeout=timeout, every=0.3,
                     what="the control plane's /readyz", alive=lambda: self.running)
        except Exception as exc:
            logs = "".join(f"\n--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}"
                           for p in sorted((self.state / "logs").glob("*.log")))
            self.stop()
            raise RuntimeError(f"control plane did not start: {exc}\n{self.log_text()[-2000:]}{logs}") from exc
        return self

    def _ready(self) -> bool:
        return "READY" in self.log_text() and Cluster(self.kubeconfig).readyz()


def build_controlplane() -> str:
    binary = os.environ.get("CONTROLPLANE_BIN")
    if binary:
        return binary
    out = subprocess.run(["bash", str(HERE / "controlplane" / "build.sh")], check=True,
                         stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def kubeconfig():
    """Path of an admin kubeconfig of a ready cluster: KUBECONFIG's, or a fresh control plane's."""
    if EXTERNAL:
        wait_for(lambda: Cluster(EXTERNAL).readyz(), timeout=60, what=f"/readyz of {EXTERNAL}")
        yield Path(EXTERNAL)
        return
    state = Path(tempfile.mkdtemp(prefix="aip-controlplane-"))
    try:
        with ControlPlane(build_controlplane(), state) as cp:
            yield cp.kubeconfig
    finally:
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def local_control_plane(kubeconfig) -> bool:
    """True when the tests run against the control plane they started (not KUBECONFIG's)."""
    return not EXTERNAL


def pytest_report_header(config):
    return f"cluster: {'KUBECONFIG=' + EXTERNAL if EXTERNAL else 'local control plane (tests/cluster/controlplane)'}"


@pytest.fixture(scope="session")
def cluster(kubeconfig) -> Cluster:
    """The admin's view of the cluster."""
    return Cluster(kubeconfig)


ISVC_CRD_STANDIN = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "inferenceservices.serving.kserve.io"},
    "spec": {
        "group": "serving.kserve.io",
        "scope": "Namespaced",
        "names": {"kind": "InferenceService", "listKind": "InferenceServiceList", "plural": "inferenceservices",
                  "singular": "inferenceservice", "shortNames": ["isvc"]},
        "versions": [{
            "name": "v1beta1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }],
    },
}


@pytest.fixture(scope="session")
def platform(cluster: Cluster) -> Cluster:
    """The operator's CRDs (server-side apply), a stand-in for KServe's InferenceService CRD, the
    operator's and the device plugin's namespaces and deploy/rbac.yaml, as the README installs them.

    KServe's controller cannot run here (no containers), so its CRD is a stand-in with KServe's
    group, version, kind and scope and a permissive schema: the operator's objects are stored and
    garbage-collected like the real ones, but nothing serves them. On a real cluster with KServe
    the real CRD is kept.
    """
    crds = [d for f in sorted((OPERATOR / "crds").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    for crd in crds:
        cluster.apply(crd)
    if cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", ISVC_CRD_STANDIN["metadata"]["name"]) is None:
        cluster.apply(ISVC_CRD_STANDIN)
    for crd in [*crds, ISVC_CRD_STANDIN]:
        cluster.wait_established(crd["metadata"]["name"])
    for ns in (OPERATOR_NAMESPACE, DEVICE_PLUGIN_NAMESPACE):
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for doc in yaml.safe_load_all((OPERATOR / "deploy" / "rbac.yaml").read_text()):
        cluster.apply(doc)
    return cluster


@pytest.fixture(scope="session")
def operator_identity(platform: Cluster, tmp_path_factory) -> Path:
    """A kubeconfig that authenticates as the operator's ServiceAccount from deploy/rbac.yaml,
    with a token from the TokenRequest API: the operator gets exactly the RBAC it ships with."""
    return operator_kubeconfig(platform, OPERATOR_NAMESPACE, "platform-operator",
                               tmp_path_factory.mktemp("operator") / "kubeconfig")



@pytest.fixture(scope="module")
def operator(operator_identity):
    """The operator, running in-process as its ServiceAccount for the whole test module; a test
    may stop and start it (fixtures that clean up start it again)."""
    control = OperatorControl(operator_identity).start()
    yield control
    control.stop()


@pytest.fixture
def namespace(platform, operator):
    """A namespace for the test's AIServices; they are deleted (through the operator, which
    removes its finalizer) and waited for at the end, then the namespace goes."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    platform.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    operator.start()
    for obj in platform.list(API, "AIService", name):
        platform.delete(API, "AIService", obj["metadata"]["name"], name)
    wait_for(lambda: not platform.list(API, "AIService", name), 60, what=f"AIServices of {name} gone")
    platform.delete("v1", "Namespace", name)


@pytest.fixture
def gpupool(platform, operator):
    """A GPUPool (16 GB, 1 GB reserved: 15 GB of budget, 4 shares); removed at the end."""
    name = f"gpu-{uuid.uuid4().hex[:6]}"
    platform.create({"apiVersion": API, "kind": "GPUPool", "metadata": {"name": name},
                     "spec": {"gpuModel": "NVIDIA GeForce RTX 5060 Ti", "memoryGB": 16, "reserveGB": 1,
                              "replicas": 4, "nodeSelector": {"nvidia.com/gpu.present": "true"}}})
    yield name
    operator.start()
    platform.delete(API, "GPUPool", name)
    wait_for(lambda: platform.gone(API, "GPUPool", name), 60, what=f"GPUPool {name} gone")
