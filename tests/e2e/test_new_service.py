"""`make new-service`: a generated service passes its own tests, starts the way `make run` starts
services, and answers through the gateway on the route its service.conf declares."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from kit.testing import ServerProcess, free_port


ROOT = Path(__file__).resolve().parents[2]
NAME, RESOURCE = "hello-svc", "greetings"
KEY = "new-service-key-0123456789"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A scratch repository (scripts, charts, kit, kit-kserve) with hello-svc generated into it."""
    root = tmp_path_factory.mktemp("repo")
    for d in ("scripts", "charts"):
        shutil.copytree(ROOT / d, root / d)
    (root / "services").mkdir()
    for lib in ("kit", "kit-kserve"):
        (root / "services" / lib).symlink_to(ROOT / "services" / lib)
    (root / "operators" / "platform-operator" / "examples").mkdir(parents=True)
    port = free_port()
    out = subprocess.run([sys.executable, str(root / "scripts" / "new_service.py"), "--name", NAME,
                          "--port", str(port), "--task", "custom", "--resource", RESOURCE],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return root, port


def test_writes_the_whole_skeleton(generated):
    root, port = generated
    svc = root / "services" / NAME
    for rel in ("requirements.txt", "pyproject.toml", "Dockerfile", "Dockerfile.gpu", "README.md", ".env.example",
                "service.conf", "src/hello_svc_service/model.py", "src/hello_svc_service/settings.py",
                "src/hello_svc_service/__main__.py", "tests/test_model.py", "tests/test_service.py"):
        assert (svc / rel).is_file(), rel
    assert not re.search(r"@@\w+@@", "".join(p.read_text() for p in svc.rglob("*") if p.is_file()))
    conf = (svc / "service.conf").read_text()
    assert f"PORT={port}\n" in conf and "TASK=custom\n" in conf and f"RESOURCE={RESOURCE}\n" in conf
    assert (root / "operators/platform-operator/examples" / f"{NAME}.yaml").is_file()
    assert (root / "charts/model-service/presets" / f"{NAME}.yaml").is_file()
    assert f"alias: {NAME}" in (root / "charts/ai-platform/Chart.yaml").read_text()
    # a second run refuses rather than overwrite the developer's work
    again = subprocess.run([sys.executable, str(root / "scripts" / "new_service.py"), "--name", NAME,
                            "--port", str(port)], capture_output=True, text=True)
    assert again.returncode == 2 and "exists" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["--name", "Bad_Name", "--port", "9100"], "NAME"),
    (["--name", "ok-name", "--port", "8090"], "gateway"),
    (["--name", "ok-name", "--port", "80"], "PORT"),
    (["--name", "ok-name", "--port", "9100", "--task", "painting"], "TASK"),
])
def test_bad_arguments_are_refused_with_a_reason(tmp_path, args, message):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "new_service.py"), "--root", str(tmp_path), *args],
                         capture_output=True, text=True)
    assert out.returncode == 2 and message in out.stderr
    assert not (tmp_path / "services").exists()


@pytest.fixture(scope="module")
def generated_venv(generated):
    root, _ = generated
    out = subprocess.run(["bash", str(root / "scripts" / "venv.sh"), f"services/{NAME}"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_generated_tests_pass(generated, generated_venv):
    root, _ = generated
    out = subprocess.run([f"{generated_venv}/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=root / "services" / NAME, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]
    passed = int(re.search(r"(\d+) passed", out.stdout).group(1))
    assert passed >= 5 and "failed" not in out.stdout


def test_runs_like_make_run_and_answers_through_the_gateway(generated, generated_venv, tmp_path):
    root, port = generated
    routes = subprocess.run([sys.executable, str(root / "scripts" / "local_routes.py"), "--root", str(root)],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(routes)["routes"] == [{"name": NAME, "kind": "custom", "resource": RESOURCE,
                                             "upstream": f"http://127.0.0.1:{port}", "model": NAME}]
    service = ServerProcess(["bash", str(root / "scripts" / "start_service.sh"), NAME],
                            env={"HELLO_SVC_GRPC_PORT": str(free_port())}, name=NAME,
                            ready_url=f"http://127.0.0.1:{port}/v2/health/ready", timeout=120)
    gw_port = free_port()
    # the real repository's gateway, started by the same script `make run` uses
    gateway = ServerProcess(["bash", str(ROOT / "scripts" / "start_service.sh"), "gateway"], name="gateway",
                            env={"GATEWAY_PORT": str(gw_port), "GATEWAY_DATA_DIR": str(tmp_path),
                                 "GATEWAY_API_KEYS": KEY, "GATEWAY_ROUTES": routes},
                            ready_url=f"http://127.0.0.1:{gw_port}/readyz", timeout=120)
    gateway.url = f"http://127.0.0.1:{gw_port}"
    with service, gateway:
        auth = {"Authorization": f"Bearer {KEY}"}
        r = httpx.post(f"{gateway.url}/api/v1/{RESOURCE}", json={"text": "hello"}, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json() == {"text": "hello", "characters": 5}
        listed = httpx.get(f"{gateway.url}/api/v1/services", headers=auth, timeout=30).json()
        assert any(s["name"] == NAME for s in json.loads(json.dumps(listed)).get("services", [])), listed
        bad = httpx.post(f"{gateway.url}/api/v1/{RESOURCE}", json={"text": ""}, headers=auth, timeout=30)
        assert bad.status_code == 400 and "text" in bad.json()["error"]["message"]
        assert httpx.post(f"{gateway.url}/api/v1/{RESOURCE}", json={"text": "hi"}, timeout=30).status_code == 401
        assert httpx.post(f"{gateway.url}/api/v1/{RESOURCE}", json={"text": "again"}, headers=auth,
                          timeout=30).json() == {"text": "again", "characters": 5}
