"""Rate limits with the `limits` library: the window arithmetic, and several gateway processes
sharing one limit through a real `redis-server` (Debian) where in-memory storage would let each
replica allow the whole rate."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from conftest import ADMIN_KEY, GatewayProcess, free_port

from gateway.ratelimit import async_storage_uri, windows

PER_MINUTE = 10


def test_windows_limit_the_minute_and_the_burst():
    items = windows(600, None)
    assert [(i.amount, i.get_expiry()) for i in items] == [(300, 30), (600, 60)]
    assert [(i.amount, i.get_expiry()) for i in windows(10, 10)] == [(10, 60)]
    assert [(i.amount, i.get_expiry()) for i in windows(4, 1)] == [(1, 15), (4, 60)]
    assert async_storage_uri("redis://r:6379/0") == "async+redis://r:6379/0"
    assert async_storage_uri("") == "async+memory://"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port, no persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (services/gateway/apt.txt: apt-get install redis-server)")
    port = free_port()
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.terminate()
    proc.wait(10)


def _gateways(tmp_path, sqlite_url, storage: str, n: int = 2) -> list[GatewayProcess]:
    env = {"GATEWAY_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE), "GATEWAY_RATE_LIMIT_BURST": str(PER_MINUTE),
           "GATEWAY_RATE_LIMIT_STORAGE": storage}
    return [GatewayProcess(tmp_path / f"gw{i}", sqlite_url, env=env) for i in range(n)]


def _spread(gateways, requests: int) -> list[int]:
    """`requests` calls of one key, alternating between the gateways: the status codes."""
    clients = [g.client(ADMIN_KEY) for g in gateways]
    try:
        return [clients[i % len(clients)].get("/api/v1/me").status_code for i in range(requests)]
    finally:
        for c in clients:
            c.close()


def test_replicas_share_one_limit_through_redis(tmp_path, sqlite_url, redis_url):
    url, _ = redis_url
    gateways = _gateways(tmp_path, sqlite_url, url)
    for g in gateways:
        g.start()
    try:
        codes = _spread(gateways, 2 * PER_MINUTE)
        assert codes.count(200) == PER_MINUTE and codes.count(429) == PER_MINUTE, codes
        with gateways[1].client(ADMIN_KEY) as c:
            r = c.get("/api/v1/me")
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == "rate_limited"
            health = c.get("/api/v1/health").json()
            assert health["rate_limit"] == {"storage": "redis", "error": None}
    finally:
        for g in gateways:
            g.stop()


def test_in_memory_each_replica_counts_alone(tmp_path, sqlite_url):
    """The reason for Redis in the cluster: two in-memory replicas allow twice the rate."""
    gateways = _gateways(tmp_path, sqlite_url, "memory://")
    for g in gateways:
        g.start()
    try:
        codes = _spread(gateways, 2 * PER_MINUTE)
        assert codes.count(200) == 2 * PER_MINUTE, codes
        assert _spread(gateways, 2).count(429) == 2
    finally:
        for g in gateways:
            g.stop()


def test_redis_down_lets_requests_through_and_says_so(tmp_path, sqlite_url, redis_url):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    (g,) = _gateways(tmp_path, sqlite_url, url, n=1)
    with g:
        with g.client(ADMIN_KEY) as c:
            codes = [c.get("/api/v1/me").status_code for _ in range(PER_MINUTE + 3)]
            assert codes == [200] * (PER_MINUTE + 3)
            rate = c.get("/api/v1/health").json()["rate_limit"]
            assert rate["storage"] == "redis" and "Connection" in rate["error"]
            assert "gateway_rate_limit_errors_total" in c.get("/metrics").text


def test_a_bad_storage_url_is_refused_at_start(tmp_path, sqlite_url):
    (g,) = _gateways(tmp_path, sqlite_url, "mongodb://x", n=1)
    with pytest.raises(RuntimeError, match="rate_limit_storage"):
        g.start()


def test_a_live_session_counts_against_the_keys_rate_limit(tmp_path, sqlite_url):
    """Opening a live session is a request like any other: once the key's minute is used up
    the socket is refused with `rate_limited` and close code 4429 (it was never checked before)."""
    import asyncio
    import json

    import websockets

    (gw,) = _gateways(tmp_path, sqlite_url, "memory://", n=1)
    gw.start()
    try:
        assert _spread([gw], PER_MINUTE) == [200] * PER_MINUTE

        async def refused() -> tuple[dict, int]:
            url = gw.url.replace("http://", "ws://") + "/api/v1/transcriptions/live"
            async with websockets.connect(url, additional_headers={"X-API-Key": ADMIN_KEY}) as ws:
                msg = json.loads(await ws.recv())
                with pytest.raises(websockets.ConnectionClosed):
                    await ws.recv()
                return msg, ws.close_code

        msg, code = asyncio.run(refused())
    finally:
        gw.stop()
    assert (msg["type"], msg["error"]["code"], code) == ("error", "rate_limited", 4429)
