"""The gateway serves a route that an AIService created in the cluster: the operator writes the
route ConfigMap, a projection of it (read through the API, as the kubelet mounts it in the
gateway chart) is the gateway's GATEWAY_ROUTES_FILE, and the gateway, a real process from its
own venv, lists the new service in GET /api/v1/services within seconds."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest
from kit.testing import ServerProcess, free_port

from clusterkit import (API, OPERATOR_NAMESPACE, ROOT, ROUTES, ConfigMapProjection, aiservice, wait_condition,
                        wait_for)

ADMIN_KEY = "cluster-test-admin-key-0001"


@pytest.fixture(scope="module")
def gateway_python() -> str:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), "services/gateway"], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True)
    return os.path.join(out.stdout.strip().splitlines()[-1], "bin", "python")


def _services(url: str) -> dict[str, dict]:
    req = urllib.request.Request(f"{url}/api/v1/services", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return {s["name"]: s for s in json.load(resp)["services"]}


def test_gateway_serves_a_route_created_in_the_cluster(platform, operator, namespace, gateway_python, tmp_path,
                                                       record_property):
    routes_file = tmp_path / "routes.json"
    port = free_port()
    env = {"GATEWAY_PORT": str(port), "GATEWAY_DATA_DIR": str(tmp_path / "data"), "GATEWAY_API_KEYS": ADMIN_KEY,
           "GATEWAY_ROUTES_FILE": str(routes_file), "GATEWAY_ROUTES_POLL_S": "0.3"}
    projection = ConfigMapProjection(platform, ROUTES[0], OPERATOR_NAMESPACE, ROUTES[1], routes_file)
    gateway = ServerProcess([gateway_python, "-m", "gateway", "serve"], env=env, cwd=tmp_path,
                            ready_url=f"http://127.0.0.1:{port}/readyz", timeout=60, name="gateway")
    with projection, gateway:
        url = f"http://127.0.0.1:{port}"
        assert "ocr" not in _services(url)
        created = time.monotonic()
        platform.create(aiservice("ocr", namespace, task="custom", route={"resource": "ocr", "scopes": ["ocr"]}))
        service = wait_for(lambda: _services(url).get("ocr"), 30, every=0.2, what="ocr in GET /api/v1/services")
        seconds = time.monotonic() - created
        record_property("route_seconds", round(seconds, 2))  # in the JUnit report
        assert service == {"name": "ocr", "kind": "custom", "resource": "ocr", "path": "/api/v1/ocr",
                           "model": "ocr", "scopes": ["ocr"], "max_upload_mb": 10}
        assert seconds < 15, f"route took {seconds:.1f}s to reach the gateway"
        wait_condition(platform, "ocr", namespace, "RouteRegistered", "True")

        platform.delete(API, "AIService", "ocr", namespace)
        wait_for(lambda: "ocr" not in _services(url), 30, every=0.2, what="ocr gone from the gateway")
        assert "route table loaded" in gateway.log_text()
