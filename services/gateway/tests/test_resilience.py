"""Routing, request ids, route-table reload, timeouts, circuit breakers, concurrency bounds and
failure isolation, against real upstream processes that are slowed, failed, stopped and restarted."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import time

import httpx
import pytest
from conftest import GatewayProcess, Upstream, default_routes, make_png, make_wav


def _err(r: httpx.Response) -> dict:
    return r.json()["error"]


@pytest.fixture
def isolated(tmp_path, sqlite_url, upstreams):
    """A gateway whose audio route points at its own upstream process, so tests can stop it."""
    audio = Upstream("audio").start()
    routes = default_routes(upstreams)
    routes["routes"][0]["upstream"] = audio.url
    gw = GatewayProcess(tmp_path, sqlite_url, routes)
    gw.start()
    try:
        yield gw, audio, routes
    finally:
        gw.stop()
        audio.stop()


def test_generic_route_forwards_json_as_one_v1_instance(gateway_sqlite, upstreams):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/echo", json={"text": "hello", "n": 3}, headers={"x-request-id": "rid-generic-1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"echo": {"text": "hello", "n": 3}, "model": "custom"}
    assert r.headers["x-request-id"] == "rid-generic-1"
    last = upstreams["echo"].last()["last"]
    assert last["headers"]["x-request-id"] == "rid-generic-1"  # passed upstream


def test_request_id_is_generated_when_absent(gateway_sqlite, upstreams):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/echo", json={"a": 1})
    rid = r.headers["x-request-id"]
    assert len(rid) >= 16
    assert upstreams["echo"].last()["last"]["headers"]["x-request-id"] == rid
    time.sleep(0.2)
    logged = [line for line in gateway_sqlite.log_text().splitlines() if rid in line]
    assert logged and '"request_id": "%s"' % rid in logged[0]


def test_unknown_resource_is_404_and_bad_json_422(gateway_sqlite):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/nothing-here", json={})
        assert r.status_code == 404 and _err(r)["code"] == "route_not_found"
        r = c.post("/api/v1/echo", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and _err(r)["code"] == "validation_error"
        r = c.post("/api/v1/echo", json=[1, 2, 3])
        assert r.status_code == 422
        r = c.get("/api/v1/jobs", params={"limit": 0})
        assert r.status_code == 422
        r = c.get("/no/such/path")
        assert r.status_code == 404 and _err(r)["code"] == "not_found"


def test_upstream_client_errors_keep_status_and_message(gateway_sqlite):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/echo", json={"fail": 422})
        assert r.status_code == 422
        assert _err(r) == {"code": "unprocessable", "message": "upstream asked to fail with 422"}
        r = c.post("/api/v1/echo", json={"fail": 400})
        assert r.status_code == 400 and _err(r)["code"] == "invalid_input"
        r = c.post("/api/v1/echo", json={"fail": 500})
        assert r.status_code == 502 and _err(r)["code"] == "bad_gateway"
        assert c.post("/api/v1/echo", json={"ok": True}).status_code == 200


def test_services_and_health_list_the_route_table(gateway_sqlite):
    with gateway_sqlite.client() as c:
        services = c.get("/api/v1/services").json()["services"]
        health = c.get("/api/v1/health").json()
    assert [s["name"] for s in services] == ["audio", "vlm", "echo"]
    assert services[2] == {"name": "echo", "kind": "custom", "resource": "echo", "path": "/api/v1/echo",
                           "model": "custom", "scopes": ["echo"], "max_upload_mb": 1.0}
    assert health["status"] == "ok"
    assert {u["name"]: (u["live"], u["ready"], u["breaker"]) for u in health["upstreams"]} == {
        "audio": (True, True, "closed"), "vlm": (True, True, "closed"), "echo": (True, True, "closed")}


def test_timeout_is_504(gateway_sqlite):
    with gateway_sqlite.client() as c:
        start = time.monotonic()
        r = c.post("/api/v1/echo", json={"delay": 4})  # the echo route's timeout is 2 s
        took = time.monotonic() - start
    assert r.status_code == 504 and _err(r)["code"] == "upstream_timeout"
    assert took < 3.5


def test_breaker_opens_fails_fast_half_opens_and_closes(isolated):
    gw, audio, _ = isolated
    wav = {"file": ("a.wav", make_wav(0.1), "audio/wav")}
    with gw.client() as c:
        audio.control(fail_status=503)
        for _ in range(3):  # GATEWAY_BREAKER_FAILURES=3
            r = c.post("/api/v1/transcriptions", files=wav)
            assert r.status_code == 503 and "retry-after" in r.headers
        calls_before = audio.last()["calls"]
        r = c.post("/api/v1/transcriptions", files=wav)
        assert r.status_code == 503 and _err(r)["code"] == "upstream_unavailable"
        assert "circuit open" in _err(r)["message"]
        assert audio.last()["calls"] == calls_before  # refused without calling upstream
        health = c.get("/api/v1/health").json()
        assert {u["name"]: u["breaker"] for u in health["upstreams"]}["audio"] == "open"
        assert health["status"] == "degraded"
        assert 'gateway_breaker_state{upstream="audio"} 2.0' in c.get("/metrics").text
        # other routes are untouched
        assert c.post("/api/v1/echo", json={"x": 1}).status_code == 200
        assert c.post("/api/v1/statements", files={"file": ("s.png", make_png(), "image/png")}).status_code == 200

        audio.control(fail_status=None)
        time.sleep(1.7)  # GATEWAY_BREAKER_RESET_S=1.5: the next call is the half-open probe
        r = c.post("/api/v1/transcriptions", files=wav)
        assert r.status_code == 200, r.text
        assert 'gateway_breaker_state{upstream="audio"} 0.0' in c.get("/metrics").text


def test_failed_probe_reopens_the_breaker(isolated):
    gw, audio, _ = isolated
    wav = {"file": ("a.wav", make_wav(0.1), "audio/wav")}
    with gw.client() as c:
        audio.control(fail_status=503)
        for _ in range(3):
            c.post("/api/v1/transcriptions", files=wav)
        time.sleep(1.7)
        calls = audio.last()["calls"]
        r = c.post("/api/v1/transcriptions", files=wav)  # probe, fails
        assert r.status_code == 503
        assert audio.last()["calls"] == calls + 1
        r = c.post("/api/v1/transcriptions", files=wav)  # open again: no call
        assert r.status_code == 503 and "circuit open" in _err(r)["message"]
        assert audio.last()["calls"] == calls + 1


def test_stopped_upstream_fails_fast_others_keep_answering_and_it_recovers(isolated):
    gw, audio, _ = isolated
    wav = {"file": ("a.wav", make_wav(0.1), "audio/wav")}
    with gw.client() as c:
        assert c.post("/api/v1/transcriptions", files=wav).status_code == 200
        audio.stop()
        for _ in range(5):
            start = time.monotonic()
            r = c.post("/api/v1/transcriptions", files=wav)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) >= 1
            assert time.monotonic() - start < 1.0
        assert _err(r)["code"] == "upstream_unavailable"
        start = time.monotonic()
        r = c.post("/api/v1/statements", files={"file": ("s.png", make_png(), "image/png")})
        assert r.status_code == 200 and time.monotonic() - start < 1.0
        health = {u["name"]: u for u in c.get("/api/v1/health").json()["upstreams"]}
        assert health["audio"]["live"] is False and health["vlm"]["ready"] is True

        audio.start()  # same port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = c.post("/api/v1/transcriptions", files=wav)
            if r.status_code == 200:
                break
            time.sleep(0.3)
        assert r.status_code == 200, r.text
        assert r.json()["text"].strip() == "hello world second segment"


def test_slow_upstream_does_not_slow_other_routes(isolated):
    gw, audio, _ = isolated
    audio.control(delay=3)
    wav = {"file": ("a.wav", make_wav(0.1), "audio/wav")}

    def slow():
        with gw.client() as c:
            return c.post("/api/v1/transcriptions", files=wav).status_code

    with cf.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(slow) for _ in range(6)]  # max_concurrency 2: the rest queue
        time.sleep(0.5)
        with gw.client() as c:
            timings = []
            for _ in range(5):
                start = time.monotonic()
                assert c.post("/api/v1/echo", json={"x": 1}).status_code == 200
                timings.append(time.monotonic() - start)
        results = [f.result() for f in futures]
    assert max(timings) < 0.5, timings
    assert results.count(200) >= 2 and set(results) <= {200, 504}


def test_bounded_queue_answers_503_busy(tmp_path, sqlite_url, upstreams):
    routes = default_routes(upstreams, echo={"max_concurrency": 1, "timeout_s": 5})
    gw = GatewayProcess(tmp_path, sqlite_url, routes, env={"GATEWAY_MAX_QUEUE": "1"})
    with gw:
        def call():
            with gw.client() as c:
                return c.post("/api/v1/echo", json={"delay": 1.5})

        with cf.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: call(), range(4)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) >= 2 and 503 in codes, codes
    busy = next(r for r in results if r.status_code == 503)
    assert _err(busy)["code"] == "upstream_busy" and busy.headers["retry-after"] == "1"


def test_route_file_is_reloaded_without_restart(isolated, upstreams):
    gw, _, routes = isolated
    new = copy.deepcopy(routes)
    new["routes"].append({"name": "translator", "kind": "translation", "resource": "translation",
                          "upstream": upstreams["echo"].url,
                          "model": "custom", "scopes": ["translation"]})
    with gw.client() as c:
        assert c.post("/api/v1/translation", json={"text": "hallo", "target": "en"}).status_code == 404
        gw.write_routes(new)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = c.post("/api/v1/translation", json={"text": "hallo", "target": "en"})
            if r.status_code == 200:
                break
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["echo"] == {"text": "hallo", "target": "en", "source": "auto"}
        assert "translator" in [s["name"] for s in c.get("/api/v1/services").json()["services"]]

        # a broken file keeps the last good table and says why in /api/v1/health
        gw.routes_file.write_text("{broken")
        time.sleep(1.0)
        assert c.post("/api/v1/translation", json={"text": "x", "target": "en"}).status_code == 200
        assert "not valid JSON" in c.get("/api/v1/health").json()["routes_error"]
    assert gw.running


def test_metrics_expose_requests_latency_and_queue_depth(gateway_sqlite):
    with gateway_sqlite.client() as c:
        c.post("/api/v1/echo", json={"x": 1})
        text = c.get("/metrics").text
    assert 'gateway_requests_total{method="POST",route="/api/v1/{resource}",status="200"}' in text
    assert "gateway_request_duration_seconds_bucket" in text
    assert 'gateway_upstream_duration_seconds_count{upstream="echo"}' in text
    assert "gateway_job_queue_depth" in text
