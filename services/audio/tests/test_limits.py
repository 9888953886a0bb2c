"""Work per request is bounded, and work nobody waits for stops: instances per request, request
size, slow clients, and a transcription whose caller has gone."""

import base64
import re
import socket
import time

import httpx

from conftest import predict


def in_flight(server) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    m = re.search(r'^aip_inference_in_flight\{model="audio"\} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_too_many_instances_is_413_before_any_work(server, clips):
    audio = base64.b64encode(clips["s0"].read_bytes()).decode()
    body = {"instances": [{"audio": {"b64": audio}}] * 64}
    t0 = time.monotonic()
    r = httpx.post(f"{server.url}/v1/models/audio:predict", json=body, timeout=60)
    assert r.status_code == 413 and r.json()["code"] == "too_many_instances", r.text
    assert "limit is 8" in r.json()["error"]
    assert time.monotonic() - t0 < 5
    assert in_flight(server) == 0
    assert predict(server.url, clips["s0"].read_bytes(), beam_size=1).status_code == 200


def test_oversized_request_is_413_and_health_stays_fast(server):
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /v1/models/audio:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n" + b"{" + b" " * 65536)
        t0 = time.monotonic()
        reply = b""
        try:
            while chunk := sock.recv(65536):  # the server closes after its answer
                reply += chunk
        except ConnectionResetError:  # closed with our unread body still in its buffer
            pass
        assert time.monotonic() - t0 < 2
    assert reply.startswith(b"HTTP/1.1 413") and b"request_too_large" in reply
    t0 = time.monotonic()
    assert httpx.get(f"{server.url}/v2/health/ready", timeout=5).status_code == 200
    assert time.monotonic() - t0 < 1.0


def test_trickling_client_is_cut_off_and_others_are_served(server, clips):
    port = int(server.url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
    for s in slow:
        s.sendall(b"POST /v1/models/audio:predict HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    assert predict(server.url, clips["s0"].read_bytes(), beam_size=1).status_code == 200
    closed_after = []
    for s in slow:
        s.settimeout(8)
        try:
            while s.recv(4096):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
        closed_after.append(time.monotonic() - t0)
        s.close()
    print(f"20 trickling connections closed after {max(closed_after):.1f} s (AUDIO_HEADER_TIMEOUT_S=2)")
    assert max(closed_after) < 5


def test_transcription_stops_when_the_caller_goes(server, clips):
    long_audio = clips["long"].read_bytes()
    try:
        predict(server.url, long_audio, timeout=1.5, beam_size=5, word_timestamps=True)
    except httpx.TimeoutException:
        pass
    t0 = time.monotonic()
    while in_flight(server) > 0 and time.monotonic() - t0 < 20:
        time.sleep(0.2)
    stopped = time.monotonic() - t0
    print(f"transcription of a 60 s clip stopped {stopped:.1f} s after its caller left")
    assert in_flight(server) == 0
    assert stopped < 8, "the transcription ran on for a caller that had gone"
    deadline = time.time() + 5
    while time.time() < deadline and "client disconnected before the response" not in server.log_text():
        time.sleep(0.1)
    assert "client disconnected before the response" in server.log_text()
    assert "client_closed_request" in server.log_text()
