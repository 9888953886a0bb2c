"""Small helpers of the cluster tests: an admin client over one kubeconfig, waiting, the
operator's own identity, and the operator run in-process."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from kit.testing import wait_for  # noqa: F401 - the cluster tests take it from here

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = ROOT / "operators" / "platform-operator"
OPERATOR_NAMESPACE = "ai-platform"  # deploy/rbac.yaml binds the operator's Roles here
DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin"
GROUP, VERSION = "platform.ai-platform.dev", "v1alpha1"
API = f"{GROUP}/{VERSION}"
ISVC_API = "serving.kserve.io/v1beta1"
FIELD_MANAGER = "aip-cluster-tests"
ROUTES = ("ai-platform-gateway-routes", "routes.json")  # the operator's route ConfigMap and key (defaults)
IMAGE = "ghcr.io/ai-platform/test-service:0.1.0"  # never pulled: no kubelet
_REFUSED = re.compile(r'HTTP/1\.1" 403\b|\b403\b: Forbidden|\(403\)|APIForbiddenError|\bforbidden\b', re.IGNORECASE)


class Cluster:
    """Admin access through one kubeconfig (never the process-wide default configuration: the
    operator running in-process owns that one)."""

    def __init__(self, kubeconfig: str | Path):
        self.kubeconfig = Path(kubeconfig)
        self.api = k8s_config.new_client_from_config(config_file=str(kubeconfig))
        self._dyn: DynamicClient | None = None

    @property
    def dyn(self) -> DynamicClient:
        if self._dyn is None:
            self._dyn = DynamicClient(self.api)
        return self._dyn

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    def readyz(self) -> bool:
        try:
            request = self.api.param_serialize(method="GET", resource_path="/readyz", auth_settings=["BearerToken"])
            response = self.api.call_api(*request, _request_timeout=5)
            response.read()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return response.status == 200 and response.data.strip() == b"ok"

    def resource(self, api_version: str, kind: str):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:  # a CRD installed after the discovery cache was filled
            self.dyn.resources.invalidate_cache()
            return self.dyn.resources.get(api_version=api_version, kind=kind)

    def apply(self, obj: dict, dry_run: bool = False, manager: str = FIELD_MANAGER) -> dict:
        """Server-side apply (forcing conflicts); returns the live object."""
        meta = obj["metadata"]
        extra = {"dry_run": "All"} if dry_run else {}
        res = self.resource(obj["apiVersion"], obj["kind"])
        return res.server_side_apply(body=obj, name=meta["name"], namespace=meta.get("namespace"),
                                     field_manager=manager, force_conflicts=True, **extra).to_dict()

    def create(self, obj: dict) -> dict:
        res = self.resource(obj["apiVersion"], obj["kind"])
        return res.create(body=obj, namespace=obj["metadata"].get("namespace")).to_dict()

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.resource(api_version, kind).get(name=name, namespace=namespace).to_dict()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str | None = None, **kw) -> list[dict]:
        return self.resource(api_version, kind).get(namespace=namespace, **kw).to_dict()["items"]

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        with contextlib.suppress(ApiException):
            self.resource(api_version, kind).delete(name=name, namespace=namespace)

    def gone(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        return self.get(api_version, kind, name, namespace) is None

    def wait_established(self, crd: str, timeout: float = 60) -> None:
        def established():
            obj = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd) or {}
            return any(c["type"] == "Established" and c["status"] == "True"
                       for c in (obj.get("status") or {}).get("conditions") or [])
        wait_for(established, timeout, what=f"CRD {crd} Established")

    def configmap_data(self, name: str, namespace: str) -> dict | None:
        cm = self.get("v1", "ConfigMap", name, namespace)
        return None if cm is None else (cm.get("data") or {})


def condition(obj: dict | None, kind: str) -> dict | None:
    """The status condition `kind` of an object, or None."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def aiservice(name: str, namespace: str, task: str = "custom", gpu_gb: float | None = None, **spec) -> dict:
    """An AIService body (small CPU resources; `gpu_gb` asks for a GPU share with that budget)."""
    body = {"apiVersion": API, "kind": "AIService", "metadata": {"name": name, "namespace": namespace},
            "spec": {"task": task, "image": IMAGE, "resources": {"cpu": "100m", "memory": "256Mi"}, **spec}}
    if gpu_gb is not None:
        body["spec"]["gpu"] = {"memoryGB": gpu_gb, **body["spec"].get("gpu", {})}
    return body


def routes(cluster: Cluster) -> dict[str, dict]:
    """The operator's route table (deploy/rbac.yaml's namespace), by route name."""
    data = cluster.configmap_data(ROUTES[0], OPERATOR_NAMESPACE) or {}
    return {r["name"]: r for r in json.loads(data.get(ROUTES[1]) or '{"routes": []}')["routes"]}


def get_ais(cluster: Cluster, name: str, namespace: str) -> dict | None:
    """An AIService as stored, or None."""
    return cluster.get(API, "AIService", name, namespace)


def wait_condition(cluster: Cluster, name: str, namespace: str, kind: str, status: str, timeout: float = 60) -> dict:
    """Wait until an AIService has condition `kind` with `status`; return the condition."""
    def check():
        cond = condition(get_ais(cluster, name, namespace), kind)
        return cond if cond and cond["status"] == status else None
    return wait_for(check, timeout, what=f"{namespace}/{name} {kind}={status}")


def operator_kubeconfig(cluster: Cluster, namespace: str, service_account: str, path: Path,
                        hours: int = 4) -> Path:
    """Write a kubeconfig that authenticates as a ServiceAccount with a token from the
    TokenRequest API (as a pod of that ServiceAccount would), for the server of `cluster`."""
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[],
                                                                          expiration_seconds=hours * 3600))
    token = cluster.core.create_namespaced_service_account_token(service_account, namespace, request).status.token
    conf = cluster.api.configuration
    server: dict[str, Any] = {"server": conf.host}
    if not conf.verify_ssl:
        server["insecure-skip-tls-verify"] = True
    elif conf.ssl_ca_cert:
        server["certificate-authority-data"] = base64.b64encode(Path(conf.ssl_ca_cert).read_bytes()).decode()
    user = f"system:serviceaccount:{namespace}:{service_account}"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": server}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "cluster", "user": user}}],
        "current-context": "operator",
    }))
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def operator_running(kubeconfig: Path, env: dict[str, str] | None = None, allow_refusals: bool = False):
    """The platform operator in-process (kopf.testing.KopfRunner, all namespaces, standalone)
    as the identity of `kubeconfig`, with OPERATOR_* settings `env` (default: the namespaces of
    deploy/rbac.yaml). On exit it checks that the operator stopped cleanly and,
    unless `allow_refusals`, that the API server never refused it (a missing RBAC verb fails the
    test here at the latest). The runner's `output` holds the operator's log."""
    from kopf.testing import KopfRunner
    from kubernetes.config import kube_config

    saved = kube_config.KUBE_CONFIG_DEFAULT_LOCATION, dict(os.environ)
    # kopf's login and the operator's KubeClient both call load_kube_config() without a path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(kubeconfig)
    os.environ.update(env or {"OPERATOR_NAMESPACE": OPERATOR_NAMESPACE,
                              "OPERATOR_DEVICE_PLUGIN_NAMESPACE": DEVICE_PLUGIN_NAMESPACE})
    args = ["run", "--standalone", "--all-namespaces", "--verbose", "-m", "platform_operator.handlers"]
    try:
        with KopfRunner(args, timeout=60) as runner:
            yield runner
    finally:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved[0]
        os.environ.clear()
        os.environ.update(saved[1])
    output = runner.output
    assert runner.exception is None, output[-5000:]
    assert runner.exit_code == 0, output[-5000:]
    if not allow_refusals:
        refused = refusals(output)
        assert not refused, "the API server refused the operator (RBAC):\n" + "\n".join(refused[:20])


_TERMINATING = re.compile(r"namespace (\S+) is being terminated; nothing to make")
# The API server's NamespaceLifecycle admission answers 403 with this cause for any write into a
# namespace being deleted (kopf's own event posts included): a lifecycle refusal, not RBAC.
_LIFECYCLE = re.compile(r"'reason': 'NamespaceTerminating'|because it is being terminated")


def refusals(log: str) -> list[str]:
    """Lines of an operator log about requests the API server refused (403). A 403 into a
    namespace the operator reported as being deleted (the API server's NamespaceLifecycle refusal,
    which the operator answers by doing nothing, or any 403 whose stated cause is
    NamespaceTerminating) is no permission problem and is not counted."""
    lines = log.splitlines()
    gone = {m.group(1) for line in lines for m in [_TERMINATING.search(line)] if m}
    return [line for line in lines if _REFUSED.search(line) and not _LIFECYCLE.search(line)
            and not any(f"/namespaces/{ns}/" in line or f"[{ns}/" in line for ns in gone)]


class OperatorControl:
    """Start and stop the in-process operator within a test (e.g. to delete while it is down)."""

    def __init__(self, kubeconfig: Path, env: dict[str, str] | None = None):
        self.kubeconfig, self.env = kubeconfig, env
        self._stack: contextlib.ExitStack | None = None
        self.runner = None
        self.logs: list[str] = []

    @property
    def running(self) -> bool:
        return self._stack is not None

    def start(self) -> OperatorControl:
        if self._stack is None:
            stack = contextlib.ExitStack()
            self.runner = stack.enter_context(operator_running(self.kubeconfig, self.env))
            self._stack = stack
        return self

    def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            try:
                stack.close()
            finally:
                self.logs.append(self.runner.output)


class ConfigMapProjection:
    """Keep a file equal to one key of a ConfigMap, as the kubelet does for a ConfigMap volume:
    a thread watches the ConfigMap through the API and replaces the file atomically on change."""

    def __init__(self, cluster: Cluster, name: str, namespace: str, key: str, path: Path):
        import threading

        self.cluster, self.name, self.namespace, self.key, self.path = cluster, name, namespace, key, path
        self.updates = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"project-{name}", daemon=True)

    def _write(self, data: dict | None) -> None:
        text = (data or {}).get(self.key)
        if text is None or (self.path.exists() and self.path.read_text() == text):
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.path)
        self.updates += 1

    def _run(self) -> None:
        from kubernetes import watch

        while not self._stop.is_set():
            try:
                listed = self.cluster.core.list_namespaced_config_map(
                    self.namespace, field_selector=f"metadata.name={self.name}")
                for item in listed.items:
                    self._write(item.data)
                stream = watch.Watch().stream(
                    self.cluster.core.list_namespaced_config_map, self.namespace,
                    field_selector=f"metadata.name={self.name}", resource_version=listed.metadata.resource_version,
                    timeout_seconds=2)
                for event in stream:
                    if self._stop.is_set():
                        break
                    self._write(event["object"].data)
            except Exception:  # noqa: BLE001 - like the kubelet, keep syncing
                time.sleep(0.5)

    def __enter__(self) -> ConfigMapProjection:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
