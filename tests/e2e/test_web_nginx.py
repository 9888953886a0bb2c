"""The web UI's nginx (the container's nginx.conf, run by services/web-frontend/nginx-local.sh as
`make run` does) in front of the real gateway: an upload the gateway refuses early (too large,
bad key, wrong type) reaches the browser as that refusal, never as nginx's 502."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from kit.testing import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "nginx-e2e-key-0123456789"
BIG = b"\0" * (8 * 1024 * 1024)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web-nginx")
    gw_port, web_port = free_port(), free_port()
    routes = {"routes": [{"name": "audio", "kind": "transcription", "upstream": f"http://127.0.0.1:{free_port()}",
                          "max_upload_mb": 1}]}
    gateway = ServerProcess(["bash", str(ROOT / "scripts" / "start_service.sh"), "gateway"], name="gateway",
                            env={"GATEWAY_PORT": str(gw_port), "GATEWAY_DATA_DIR": str(tmp / "gw"),
                                 "GATEWAY_API_KEYS": KEY, "GATEWAY_ROUTES": json.dumps(routes)},
                            ready_url=f"http://127.0.0.1:{gw_port}/readyz", timeout=120)
    dist = tmp / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    nginx = ServerProcess(["bash", str(ROOT / "services" / "web-frontend" / "nginx-local.sh")], name="nginx",
                          env={"WEB_PORT": str(web_port), "WEB_DIST": str(dist), "WEB_NGINX_DIR": str(tmp / "ngx"),
                               "WEB_GATEWAY_URL": f"http://127.0.0.1:{gw_port}"},
                          ready_url=f"http://127.0.0.1:{web_port}/healthz", timeout=30)
    with gateway, nginx:
        yield f"http://127.0.0.1:{web_port}"


def _post(url: str, **kw) -> int:
    # a fresh connection each time, no Expect: 100-continue (as browsers send uploads)
    with httpx.Client(timeout=60) as c:
        return c.post(url, **kw).status_code


def test_oversized_uploads_get_413_through_nginx(web):
    url = f"{web}/api/v1/transcriptions"
    auth = {"Authorization": f"Bearer {KEY}"}
    raw = [_post(url, content=BIG, headers={**auth, "content-type": "audio/wav"}) for _ in range(15)]
    form = [_post(url, files={"file": ("a.wav", BIG, "audio/wav")}, headers=auth) for _ in range(5)]
    chunked = [_post(url, content=iter([BIG[i:i + 65536] for i in range(0, len(BIG), 65536)]),
                     headers={**auth, "content-type": "audio/wav"}) for _ in range(5)]
    assert raw == [413] * 15 and form == [413] * 5, (raw, form)
    assert 502 not in chunked and all(400 <= c < 500 for c in chunked), chunked


def test_a_refused_key_with_a_big_upload_gets_401_through_nginx(web):
    codes = [_post(f"{web}/api/v1/transcriptions", content=BIG,
                   headers={"Authorization": "Bearer not-a-key", "content-type": "audio/wav"}) for _ in range(10)]
    assert codes == [401] * 10, codes


def test_the_gateway_unreachable_is_a_clear_json_502(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("app")
    port = free_port()
    env = {"WEB_PORT": str(port), "WEB_DIST": str(dist), "WEB_NGINX_DIR": str(tmp_path / "ngx"),
           "WEB_GATEWAY_URL": f"http://127.0.0.1:{free_port()}"}
    with ServerProcess(["bash", str(ROOT / "services" / "web-frontend" / "nginx-local.sh")], env=env, name="nginx",
                       ready_url=f"http://127.0.0.1:{port}/healthz", timeout=30):
        r = httpx.get(f"http://127.0.0.1:{port}/api/v1/me")
        assert r.status_code == 502 and r.json()["error"]["code"] == "gateway_unreachable"


def test_nginx_local_refuses_a_bad_gateway_url(tmp_path):
    out = subprocess.run(["bash", str(ROOT / "services" / "web-frontend" / "nginx-local.sh")],
                         env={**os.environ, "WEB_GATEWAY_URL": "ftp://x", "WEB_DIST": str(tmp_path),
                              "WEB_NGINX_DIR": str(tmp_path / "n")}, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "WEB_GATEWAY_URL" in out.stderr
