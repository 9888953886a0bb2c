"""kit's bootstrap, errors, request ids and bounded concurrency, through a real server."""

import base64
import concurrent.futures
import json
import re
import time

import httpx
import pytest

DOC = base64.b64encode(b"hello").decode()


def predict(url, options=None, timeout=30, **kw):
    body = {"instances": [{"document": {"b64": DOC}, **(options or {})}]}
    return httpx.post(f"{url}/v1/models/echo:predict", json=body, timeout=timeout, **kw)


def test_predict_v1_and_v2(echo_server):
    r = predict(echo_server.url, {"lang": "en"})
    assert r.status_code == 200
    [pred] = r.json()["predictions"]
    assert pred["length"] == 5 and pred["options"] == {"lang": "en"}
    v2 = {"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES", "data": [DOC]}],
          "parameters": {"x": 1}}
    r = httpx.post(f"{echo_server.url}/v2/models/echo/infer", json=v2, timeout=30)
    assert r.status_code == 200, r.text
    [out] = r.json()["outputs"]
    assert json.loads(out["data"][0])["options"] == {"x": 1}


@pytest.mark.parametrize(
    "fail, status, code",
    [("invalid", 400, "not_audio"), ("unprocessable", 422, "unprocessable_input"),
     ("too_large", 413, "payload_too_large"), ("media", 415, "unsupported_media_type")],
)
def test_domain_errors_map_to_status_and_code(echo_server, fail, status, code):
    r = predict(echo_server.url, {"fail": fail})
    assert r.status_code == status
    assert r.json()["code"] == code and r.json()["error"]


def test_bad_base64_and_bad_json_are_400_and_server_stays_up(echo_server):
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict",
                   json={"instances": [{"document": {"b64": "%%%"}}]}, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "invalid_base64"
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", content=b"{not json", timeout=10)
    assert r.status_code == 400
    assert predict(echo_server.url).status_code == 200


def test_unexpected_error_is_500_without_crash(echo_server):
    assert predict(echo_server.url, {"fail": "boom"}).status_code == 500
    assert httpx.get(f"{echo_server.url}/v2/health/live", timeout=5).status_code == 200


def test_request_id_echoed_and_logged(echo_server):
    r = predict(echo_server.url, {"fail": "invalid"}, headers={"x-request-id": "rid-kit-123"})
    assert r.headers["x-request-id"] == "rid-kit-123"
    assert predict(echo_server.url).headers["x-request-id"]
    deadline = time.time() + 5
    while time.time() < deadline and "rid-kit-123" not in echo_server.log_text():
        time.sleep(0.1)
    lines = [json.loads(l) for l in echo_server.log_text().splitlines() if "rid-kit-123" in l]
    assert lines and all(l["request_id"] == "rid-kit-123" for l in lines)


def test_health_answers_while_inference_blocks_and_queue_is_bounded(echo_server):
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slow = pool.submit(predict, echo_server.url, {"sleep": 3})
        time.sleep(0.5)
        for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/echo/ready"):
            t0 = time.monotonic()
            assert httpx.get(f"{echo_server.url}{path}", timeout=5).status_code == 200
            assert time.monotonic() - t0 < 1.0
        # concurrency 1, queue 2: two wait, the next is refused with 503 + Retry-After
        waiting = [pool.submit(predict, echo_server.url, {"sleep": 0.1}) for _ in range(2)]
        time.sleep(0.3)
        refused = predict(echo_server.url)
        assert refused.status_code == 503 and refused.json()["code"] == "overloaded"
        assert refused.headers["retry-after"] == "1"
        assert slow.result().status_code == 200
        assert all(w.result().status_code == 200 for w in waiting)


def test_metrics_exposed(echo_server):
    predict(echo_server.url)
    text = httpx.get(f"{echo_server.url}/metrics", timeout=5).text
    assert "request_predict_seconds" in text or "aip_inference" in text


def test_gpu_memory_budget_is_exported(echo_server):
    """The budget a dashboard draws against: <SERVICE>_MAX_MEMORY_GB in bytes, and the (here zero:
    no GPU) memory the service holds."""
    text = httpx.get(f"{echo_server.url}/metrics", timeout=5).text
    budget = re.search(r'^aip_gpu_memory_budget_bytes\{model="([^"]+)"\} (\S+)$', text, re.M)
    used = re.search(r'^aip_gpu_memory_used_bytes\{model="([^"]+)"\} (\S+)$', text, re.M)
    assert budget and float(budget.group(2)) == 1.5 * 1024**3
    assert used and used.group(1) == budget.group(1) and float(used.group(2)) == 0.0


def test_gpu_bytes_read_only_a_loaded_torch(monkeypatch):
    """A scrape never imports torch, and a failing driver query reads as 0, not an error."""
    import sys

    from kit_kserve.metrics import torch_gpu_bytes

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert torch_gpu_bytes() == 0.0 and "torch" not in sys.modules

    class BrokenCuda:
        @staticmethod
        def is_available():
            raise RuntimeError("driver gone")

    monkeypatch.setitem(sys.modules, "torch", type("T", (), {"cuda": BrokenCuda}))
    assert torch_gpu_bytes() == 0.0


def test_a_service_router_is_served_with_the_kit_middlewares(echo_server):
    r = httpx.get(f"{echo_server.url}/echo/extra", headers={"x-request-id": "extra-1"}, timeout=10)
    assert r.status_code == 200 and r.json() == {"extra": True}
    assert r.headers["x-request-id"] == "extra-1"
