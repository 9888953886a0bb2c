"""KubeClient through the real kubernetes library against a minimal fake API server over HTTP.

The fake serves only discovery and records requests, so the test checks what actually goes on
the wire: server-side apply with field manager and force, merge patches, 404 handling.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import kubernetes
import pytest

from platform_operator.client import ApiError, KubeClient

CORE = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "configmaps", "singularName": "configmap", "namespaced": True, "kind": "ConfigMap",
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}
AIS = {"kind": "APIResourceList", "groupVersion": "platform.ai-platform.dev/v1alpha1", "resources": [
    {"name": "aiservices", "singularName": "aiservice", "namespaced": True, "kind": "AIService",
     "verbs": ["get", "list", "patch", "watch"]},
    {"name": "aiservices/status", "singularName": "", "namespaced": True, "kind": "AIService",
     "verbs": ["get", "patch"]}]}
GROUPS = {"kind": "APIGroupList", "groups": [{
    "name": "platform.ai-platform.dev",
    "versions": [{"groupVersion": "platform.ai-platform.dev/v1alpha1", "version": "v1alpha1"}],
    "preferredVersion": {"groupVersion": "platform.ai-platform.dev/v1alpha1", "version": "v1alpha1"}}]}
ROUTES = {"/version": {"major": "1", "minor": "37", "gitVersion": "v1.37.0"},
          "/api": {"kind": "APIVersions", "versions": ["v1"]}, "/apis": GROUPS,
          "/api/v1": CORE, "/apis/platform.ai-platform.dev/v1alpha1": AIS}


class FakeApiServer(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self):
        self._reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                          "code": 404, "message": "not found"})

    def do_GET(self):
        url = urlparse(self.path)
        if url.path in ROUTES:
            return self._reply(200, ROUTES[url.path])
        self.requests.append(("GET", url.path, {}, None, None))
        if url.path.endswith("/configmaps"):
            return self._reply(200, {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {},
                                     "items": [{"metadata": {"name": "a"}}]})
        self._not_found()

    def do_PATCH(self):
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(("PATCH", url.path, parse_qs(url.query), self.headers["Content-Type"], body))
        if body.get("metadata", {}).get("name") == "conflict":
            return self._reply(409, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
                                     "reason": "Conflict", "message": "modified"})
        live = {"apiVersion": "v1", "kind": "Object", **body}  # a real server returns the whole object
        self._reply(200, {**live, "metadata": {**body.get("metadata", {}), "resourceVersion": "7"}})

    def do_DELETE(self):
        self.requests.append(("DELETE", urlparse(self.path).path, {}, None, None))
        self._not_found()


@pytest.fixture
def kube(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the discovery cache
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    FakeApiServer.requests = []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    config = kubernetes.client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield KubeClient(kubernetes.client.ApiClient(config))
    server.shutdown()
    server.server_close()


def test_apply_sends_a_forced_server_side_apply(kube):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "routes", "namespace": "ai"},
          "data": {"k": "v"}}
    live = kube.apply(cm)
    assert live["metadata"]["resourceVersion"] == "7" and live["data"] == {"k": "v"}
    (method, path, query, ctype, body) = FakeApiServer.requests[-1]
    assert (method, path, ctype) == ("PATCH", "/api/v1/namespaces/ai/configmaps/routes",
                                     "application/apply-patch+yaml")
    assert query == {"fieldManager": ["platform-operator"], "force": ["true"]} and body == cm


def test_conflict_and_missing_objects(kube):
    with pytest.raises(ApiError) as raised:
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conflict", "namespace": "ai"}})
    assert raised.value.status == 409
    assert "modified" in str(raised.value)  # the API server's own message, not only "Conflict"
    assert kube.get("v1", "ConfigMap", "missing", "ai") is None
    kube.delete("v1", "ConfigMap", "missing", "ai")
    assert FakeApiServer.requests[-1][:2] == ("DELETE", "/api/v1/namespaces/ai/configmaps/missing")


def test_list_and_status_patch(kube):
    assert kube.list("v1", "ConfigMap", "ai") == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}]
    kube.patch("platform.ai-platform.dev/v1alpha1", "AIService", "audio", "ai", {"status": {"url": "u"}},
               status=True)
    (method, path, _, ctype, body) = FakeApiServer.requests[-1]
    assert (method, path, ctype) == ("PATCH", "/apis/platform.ai-platform.dev/v1alpha1/namespaces/ai/aiservices/"
                                     "audio/status", "application/merge-patch+json")
    assert body == {"status": {"url": "u"}}


def test_an_uninstalled_kind_is_an_api_error(kube):
    with pytest.raises(ApiError, match="InferenceService"):
        kube.apply({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                    "metadata": {"name": "a", "namespace": "ai"}})
