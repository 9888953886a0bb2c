"""Request size, header and body read time, cancellation: real sockets against the echo server.

The echo server runs with ECHO_MAX_REQUEST_MB=1, ECHO_HEADER_TIMEOUT_S=1.5, ECHO_BODY_TIMEOUT_S=2.
"""

import base64
import concurrent.futures
import json
import socket
import time

import httpx

from test_server import predict

HEALTH = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(server) -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout`)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, float, bytes]:
    """Whether the server closed `sock` within `seconds`; the time it took and what it sent."""
    t0 = time.monotonic()
    sock.settimeout(seconds)
    got = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True, time.monotonic() - t0, got
            got += data
    except socket.timeout:
        return False, time.monotonic() - t0, got
    except ConnectionResetError:
        return True, time.monotonic() - t0, got


def test_oversized_body_is_413_before_it_is_read(echo_server):
    sock = connect(echo_server)
    # declares 200 MB, sends none of it: the answer must not wait for the body
    sock.sendall(b"POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 209715200\r\n\r\n")
    t0 = time.monotonic()
    reply = read_all(sock, 10)
    assert time.monotonic() - t0 < 3
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply[:200]
    assert json.loads(body) == {"error": "request body is larger than the limit of 1 MB", "code": "request_too_large"}
    assert httpx.get(f"{echo_server.url}/v2/health/live", timeout=5).status_code == 200


def test_oversized_request_from_a_real_client_is_413(echo_server):
    doc = base64.b64encode(b"x" * 900_000).decode()  # ~1.2 MB of JSON
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", json={"instances": [{"document": {"b64": doc}}]},
                   timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"
    small = base64.b64encode(b"x" * 500_000).decode()
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", json={"instances": [{"document": {"b64": small}}]},
                   timeout=30)
    assert r.status_code == 200 and r.json()["predictions"][0]["length"] == 500_000


def test_oversized_chunked_body_is_413(echo_server):
    def chunks():
        for _ in range(40):
            yield b"A" * 65536  # 2.5 MB without a Content-Length

    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", content=chunks(),
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"


def test_trickled_headers_are_cut_off(echo_server):
    sock = connect(echo_server)
    sock.sendall(b"POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    closed = False
    while time.monotonic() - t0 < 6:  # one header byte every 0.2 s: never finishes by itself
        try:
            sock.sendall(b"X")
        except OSError:
            closed = True
            break
        time.sleep(0.2)
    ok, _, got = closed_within(sock, 1) if not closed else (True, 0, b"")
    elapsed = time.monotonic() - t0
    assert ok or closed, "the server kept a connection with unfinished headers open"
    print(f"trickled headers cut off after {elapsed:.2f} s (limit 1.5 s)")
    assert elapsed < 4
    assert not got or got.startswith(b"HTTP/1.1 408")


def test_silent_connection_is_closed(echo_server):
    sock = connect(echo_server)
    ok, elapsed, got = closed_within(sock, 6)
    assert ok, "an idle new connection stayed open"
    print(f"silent connection closed after {elapsed:.2f} s (limit 1.5 s)")
    assert 1.0 < elapsed < 4
    assert got.startswith(b"HTTP/1.1 408") and b"header_timeout" in got


def test_trickled_body_is_cut_off_with_408(echo_server):
    sock = connect(echo_server)
    sock.sendall(b"POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{")
    t0 = time.monotonic()
    got = b""
    sock.settimeout(0.2)
    while time.monotonic() - t0 < 8:
        try:
            sock.sendall(b" ")
        except OSError:
            break
        try:
            data = sock.recv(65536)
            if not data:
                break
            got += data
        except socket.timeout:
            continue
        except ConnectionResetError:  # closed with our trickle unread: the 408 may be lost in the reset
            break
    elapsed = time.monotonic() - t0
    print(f"trickled body cut off after {elapsed:.2f} s (limit 2 s)")
    assert elapsed < 5, "the server kept reading a trickled body past its limit"
    assert not got or (got.startswith(b"HTTP/1.1 408") and b"body_timeout" in got), got[:200]


def test_stalled_body_gets_408(echo_server):
    sock = connect(echo_server)
    sock.sendall(b"POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{")
    ok, elapsed, got = closed_within(sock, 6)
    assert ok and 1.5 < elapsed < 4, elapsed
    assert got.startswith(b"HTTP/1.1 408") and b"body_timeout" in got, got[:200]


def test_many_slow_clients_do_not_block_others(echo_server):
    socks = [connect(echo_server) for _ in range(50)]
    for s in socks:
        s.sendall(b"POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    assert predict(echo_server.url).status_code == 200
    assert httpx.get(f"{echo_server.url}/v2/health/ready", timeout=5).status_code == 200
    assert time.monotonic() - t0 < 2
    time.sleep(2.0)
    still_open = sum(1 for s in socks if not closed_within(s, 0.2)[0])
    for s in socks:
        s.close()
    assert still_open == 0, f"{still_open} of 50 slow connections still open after the header timeout"


def test_queued_work_of_a_gone_client_is_dropped(echo_server, tmp_path):
    record = tmp_path / "done.txt"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        busy = pool.submit(predict, echo_server.url, {"sleep": 2})
        time.sleep(0.3)
        # queued behind `busy` (concurrency 1); the client gives up after 0.5 s
        try:
            predict(echo_server.url, {"sleep": 0.5, "record": str(record)}, timeout=0.5)
        except httpx.TimeoutException:
            pass
        assert busy.result().status_code == 200
    time.sleep(1.5)
    assert not record.exists(), "work ran for a client that had gone"
    log = echo_server.log_text()
    assert "client disconnected before the response" in log


def test_running_work_stops_when_the_client_goes(echo_server, tmp_path):
    record = tmp_path / "done.txt"
    try:
        predict(echo_server.url, {"sleep": 2, "record": str(record)}, timeout=0.5)
    except httpx.TimeoutException:
        pass
    time.sleep(2.5)
    assert not record.exists(), "the work ran to its end for a client that had gone"
    assert predict(echo_server.url).status_code == 200


def test_too_many_instances_is_413_before_any_work(echo_server, tmp_path):
    record = tmp_path / "done.txt"
    doc = base64.b64encode(b"hello").decode()
    body = {"instances": [{"document": {"b64": doc}, "record": str(record)}] * 5}
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", json=body, timeout=10)
    assert r.status_code == 413 and r.json()["code"] == "too_many_instances"
    assert not record.exists()


def test_a_failed_item_stops_the_rest_of_its_request(echo_server, tmp_path):
    record = tmp_path / "done.txt"
    doc = base64.b64encode(b"hello").decode()
    body = {"instances": [{"document": {"b64": doc}, "fail": "invalid"},
                          {"document": {"b64": doc}, "sleep": 1, "record": str(record)},
                          {"document": {"b64": doc}, "sleep": 1, "record": str(record)}]}
    r = httpx.post(f"{echo_server.url}/v1/models/echo:predict", json=body, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "not_audio"
    time.sleep(1.5)
    assert not record.exists()
