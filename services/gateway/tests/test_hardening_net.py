"""Issue 9 against real sockets on loopback: slow clients are cut off (before auth), a connect
timeout is reported as one and retried, an upstream that dies mid-request answers 503 with
Retry-After, and the gateway's files are private."""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import stat
import time

import pytest
from conftest import ADMIN_KEY, GatewayProcess, Upstream, default_routes, make_wav

HEADER_S, BODY_S = 1.0, 2.0


@pytest.fixture(scope="module")
def strict_gateway(tmp_path_factory, sqlite_url, upstreams):
    gw = GatewayProcess(tmp_path_factory.mktemp("gw-strict"), sqlite_url, default_routes(upstreams),
                        env={"GATEWAY_HEADER_TIMEOUT_S": str(HEADER_S), "GATEWAY_BODY_TIMEOUT_S": str(BODY_S)})
    with gw:
        yield gw


def _connect(gw) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    return s


def _closed_after(sock: socket.socket, trickle: bytes = b"", every: float = 0.25, limit: float = 10.0):
    """Send `trickle` one byte every `every` s until the server closes; (seconds, what it said)."""
    start = time.monotonic()
    got = b""
    sock.settimeout(every)
    i = 0
    while time.monotonic() - start < limit:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return time.monotonic() - start, got
            got += chunk
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start, got
        if trickle:
            try:
                sock.send(trickle[i % len(trickle):i % len(trickle) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, got
            i += 1
    return None, got


def test_trickled_headers_are_cut_off(strict_gateway):
    s = _connect(strict_gateway)
    s.sendall(b"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\n")
    took, said = _closed_after(s, trickle=b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert took is not None and HEADER_S - 0.1 <= took <= HEADER_S + 1.0, took
    assert said.startswith(b"HTTP/1.1 408 ") and b"request_timeout" in said


def test_a_trickled_second_request_on_a_kept_alive_connection_is_cut_off(strict_gateway):
    s = _connect(strict_gateway)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b'{"status":"ok"}' not in first:
        first += s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    took, said = _closed_after(s, trickle=b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert took is not None and took <= HEADER_S + 1.0, took
    assert said.startswith(b"HTTP/1.1 408 "), said[:60]


def test_a_silent_connection_is_closed(strict_gateway):
    took, said = _closed_after(_connect(strict_gateway))
    assert took is not None and took <= HEADER_S + 1.0, took
    assert said.startswith(b"HTTP/1.1 408 ")


def test_trickled_body_is_cut_off_even_without_a_key(strict_gateway):
    for auth in (f"Authorization: Bearer {ADMIN_KEY}\r\n".encode(), b""):
        s = _connect(strict_gateway)
        s.sendall(b"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 5000\r\n" + auth + b"\r\n{")
        took, said = _closed_after(s, trickle=b'"aaaa":1,')
        assert took is not None and took <= BODY_S + 1.5, (auth, took)
        if auth:
            assert said.startswith(b"HTTP/1.1 408 "), said[:80]
        else:  # refused before the body: 401, then the trickle is cut off all the same
            assert said.startswith(b"HTTP/1.1 401 "), said[:80]


def test_many_trickling_connections_are_all_closed_and_service_goes_on(strict_gateway):
    socks = [_connect(strict_gateway) for _ in range(200)]
    for s in socks:
        s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
    start = time.monotonic()
    with strict_gateway.client() as c:
        assert c.get("/api/v1/me").status_code == 200  # a well-behaved client is served meanwhile
    open_ = list(socks)
    while open_ and time.monotonic() - start < HEADER_S + 5:
        still = []
        for s in open_:
            s.settimeout(0.01)
            try:
                if s.recv(65536) == b"":
                    continue
                still.append(s)
            except socket.timeout:
                still.append(s)
            except ConnectionResetError:
                pass
        open_ = still
        time.sleep(0.1)
    took = time.monotonic() - start
    for s in socks:
        s.close()
    assert not open_, f"{len(open_)} of 200 connections still open after {took:.1f}s"


def test_a_normal_upload_is_not_affected(strict_gateway):
    with strict_gateway.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(2.0), "audio/wav")})
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- upstream connect and disconnect


@pytest.fixture
def black_hole():
    """A port that takes no connection: it listens with its accept queue full and never
    accepts, so new connects hang (SYNs are dropped) as with an overloaded or firewalled host."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    for c in fillers:
        c.close()
    srv.close()


def test_connect_timeout_is_reported_as_such_and_retried(tmp_path, sqlite_url, upstreams, black_hole):
    routes = default_routes(upstreams, echo={"upstream": black_hole, "timeout_s": 300, "retries": 1})
    gw = GatewayProcess(tmp_path, sqlite_url, routes, env={"GATEWAY_CONNECT_TIMEOUT_S": "0.5"})
    with gw, gw.client() as c:
        start = time.monotonic()
        r = c.post("/api/v1/echo", json={"a": 1})
        took = time.monotonic() - start
        metrics = c.get("/metrics").text
    err = r.json()["error"]
    assert r.status_code == 503 and err["code"] == "upstream_connect_timeout", r.text
    assert "timed out after 0.5s (2 attempts)" in err["message"] and "300" not in err["message"]
    assert int(r.headers["retry-after"]) >= 1
    assert 1.0 <= took < 2.5, took  # two 0.5 s connect attempts, not the route's 300 s
    assert 'gateway_upstream_requests_total{outcome="connect_timeout",upstream="echo"} 1.0' in metrics
    assert gw.log_text().count("connect timeout on attempt 1 of 2; retrying") == 1


def test_upstream_killed_mid_request_answers_503_with_retry_after(tmp_path, sqlite_url, upstreams):
    echo = Upstream("custom").start()
    routes = default_routes(upstreams, echo={"upstream": echo.url, "timeout_s": 30})
    gw = GatewayProcess(tmp_path, sqlite_url, routes)
    try:
        with gw, gw.client() as c:
            with cf.ThreadPoolExecutor(1) as pool:
                fut = pool.submit(c.post, "/api/v1/echo", json={"delay": 10})
                time.sleep(1.0)
                start = time.monotonic()
                echo.kill()
                r = fut.result(timeout=20)
                took = time.monotonic() - start
    finally:
        echo.stop()
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "upstream_disconnected"
    assert int(r.headers["retry-after"]) >= 1
    assert took < 2.0, took


# ---------------------------------------------------------------- files


def test_data_dir_database_and_uploads_are_private(tmp_path, upstreams):
    db = tmp_path / "state" / "gateway.db"
    gw = GatewayProcess(tmp_path, f"sqlite:///{db}", default_routes(upstreams, audio={"timeout_s": 10}),
                        env={"GATEWAY_DATA_DIR": str(tmp_path / "data")})
    old = os.umask(0o022)  # the usual umask: without care files come out 0644
    try:
        with gw, gw.client() as c:
            upstreams["audio"].control(delay=2)
            r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.1), "audio/wav")},
                       headers={"Prefer": "respond-async"})
            upload = tmp_path / "data" / "uploads" / r.json()["job"]["id"] / "upload.bin"
            deadline = time.monotonic() + 5
            while not upload.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            modes = {p: stat.S_IMODE(p.stat().st_mode) for p in
                     (tmp_path / "data", tmp_path / "data" / "uploads", upload, upload.parent, db, db.parent)}
            wal = [p for p in db.parent.iterdir() if p.name.startswith("gateway.db-")]
            modes.update({p: stat.S_IMODE(p.stat().st_mode) for p in wal})
    finally:
        os.umask(old)
        upstreams["audio"].control(delay=0)
    for path, mode in modes.items():
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path} is {oct(mode)}"
    assert wal, "expected SQLite's -wal/-shm files"

