"""The platform operator on a live cluster: an AIService becomes a KServe InferenceService.

Needs KUBECONFIG and permission to install CRDs; KServe's InferenceService CRD must be installed
(the test skips with the reason when it is not). The operator runs in-process via KopfRunner.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

kopf_testing = pytest.importorskip("kopf.testing", reason="run from the platform operator's venv")
kubernetes = pytest.importorskip("kubernetes", reason="run from the platform operator's venv")

OPERATOR = Path(__file__).resolve().parents[2] / "operators" / "platform-operator"
GROUP, VERSION = "platform.ai-platform.dev", "v1alpha1"


def _wait(fn, timeout=120, every=2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s")


@pytest.fixture(scope="module")
def api():
    kubernetes.config.load_kube_config()
    client = kubernetes.client.ApiClient()
    ext = kubernetes.client.ApiextensionsV1Api(client)
    try:
        ext.read_custom_resource_definition("inferenceservices.serving.kserve.io")
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            pytest.skip("KServe is not installed in this cluster (no inferenceservices CRD)")
        raise
    subprocess.run(["kubectl", "apply", "--server-side", "-f", str(OPERATOR / "crds")], check=True)
    for crd in ("aiservices", "gpupools"):
        subprocess.run(["kubectl", "wait", "--for=condition=Established", f"crd/{crd}.{GROUP}",
                        "--timeout=60s"], check=True)
    return client


@pytest.fixture
def namespace(api):
    name = f"aip-op-test-{uuid.uuid4().hex[:6]}"
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def test_aiservice_becomes_an_inference_service(api, namespace, monkeypatch):
    monkeypatch.setenv("OPERATOR_NAMESPACE", namespace)
    custom = kubernetes.client.CustomObjectsApi(api)
    core = kubernetes.client.CoreV1Api(api)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "AIService",
        "metadata": {"name": "translation", "namespace": namespace},
        "spec": {"task": "translation", "image": "ghcr.io/ai-platform/translation-service:0.1.0",
                 "resources": {"cpu": "100m", "memory": "256Mi"}},
    }
    args = ["run", "--verbose", "--standalone", "--namespace", namespace, "-m", "platform_operator.handlers"]
    with kopf_testing.KopfRunner(args) as runner:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "aiservices", body)

        def isvc():
            try:
                return custom.get_namespaced_custom_object("serving.kserve.io", "v1beta1", namespace,
                                                           "inferenceservices", "translation")
            except kubernetes.client.ApiException as exc:
                if exc.status == 404:
                    return None
                raise

        found = _wait(isvc)
        container = found["spec"]["predictor"]["containers"][0]
        assert container["name"] == "kserve-container"
        assert found["metadata"]["ownerReferences"][0]["kind"] == "AIService"

        def admitted():
            obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "aiservices", "translation")
            conds = (obj.get("status") or {}).get("conditions") or []
            return any(c["type"] == "Admitted" and c["status"] == "True" for c in conds)

        _wait(admitted)
        routes = core.read_namespaced_config_map("ai-platform-gateway-routes", namespace)
        assert [r["name"] for r in json.loads(routes.data["routes.json"])["routes"]] == ["translation"]

        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "aiservices", "translation")

        def route_gone():
            cm = core.read_namespaced_config_map("ai-platform-gateway-routes", namespace)
            return json.loads(cm.data["routes.json"])["routes"] == []

        _wait(route_gone)
    assert runner.exception is None
    assert runner.exit_code == 0
