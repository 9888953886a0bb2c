"""Streamed transcriptions (`stream=true`) through the real gateway process, against the small
real upstream's `:stream`: event translation, errors before and during the stream, a stalled
or dropped upstream, scopes, the upstream slot being given back (also when the client goes
away), and keep-alive pings. (Real speech through the real audio-service and the `openai`
client: tests/e2e/test_streaming_e2e.py.)"""

from __future__ import annotations


import httpx
import openai
import pytest

from conftest import ECHO_KEY, STMT_KEY, TRANS_KEY, GatewayProcess, default_routes, make_wav
from kit.testing import prometheus_sample, sse_events, wait_for


def events_of(text: str) -> list[tuple[str, dict]]:
    return sse_events(text.split("\n"))


def post(gw, path: str, key: str = TRANS_KEY, headers: dict | None = None, **form) -> httpx.Response:
    data = {"model": "whisper-1", **form} if path.startswith("/v1/") else form
    with gw.client(key, timeout=30) as c:
        return c.post(path, files={"file": ("a.wav", make_wav(), "audio/wav")}, data=data, headers=headers or {})


def test_native_stream_relays_info_segments_and_done(gateway, upstreams):
    r = post(gateway, "/api/v1/transcriptions", stream="true", word_timestamps="true", batched="true")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    events = events_of(r.text)
    assert [n for n, _ in events] == ["info", "segment", "segment", "done"]
    assert events[1][1]["segment"]["words"][0]["word"] == " hello"
    assert events[-1][1]["text"] == " hello world second segment"
    sent = upstreams["audio"].last()["last"]
    assert sent["stream"] and sent["instance"]["word_timestamps"] is True and sent["instance"]["batched"] is True
    assert sent["headers"]["accept"] == "text/event-stream"


def test_accept_header_asks_for_the_stream(gateway):
    r = post(gateway, "/api/v1/transcriptions", headers={"Accept": "text/event-stream"})
    assert r.status_code == 200 and events_of(r.text)[-1][0] == "done"
    r = post(gateway, "/api/v1/transcriptions", headers={"Accept": "application/json, text/event-stream"})
    assert r.headers["content-type"].startswith("application/json")


def test_openai_stream_sends_deltas_then_done(gateway):
    r = post(gateway, "/v1/audio/transcriptions", stream="true")
    assert r.status_code == 200
    events = events_of(r.text)
    assert [d["type"] for _, d in events] == ["transcript.text.delta", "transcript.text.delta", "transcript.text.done"]
    assert "".join(d["delta"] for _, d in events[:-1]) == "hello world second segment" == events[-1][1]["text"].strip()


@pytest.mark.parametrize("path, form, code", [
    ("/api/v1/transcriptions", {"response_format": "srt"}, "unsupported_stream_format"),
    ("/v1/audio/transcriptions", {"response_format": "verbose_json"}, "unsupported_stream_format"),
])
def test_formats_a_stream_cannot_carry_are_400(gateway, path, form, code):
    r = post(gateway, path, stream="true", **form)
    assert r.status_code == 400 and r.json()["error"]["code"] == code


def test_stream_with_async_is_400(gateway):
    with gateway.client(TRANS_KEY) as c:
        r = c.post("/api/v1/transcriptions?async=true", files={"file": ("a.wav", make_wav(), "audio/wav")},
                   data={"stream": "true"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "stream_and_async"


def test_a_key_without_the_scope_is_403_before_any_stream(gateway, upstreams):
    calls = upstreams["audio"].last()["calls"]
    for path in ("/api/v1/transcriptions", "/v1/audio/transcriptions"):
        r = post(gateway, path, key=STMT_KEY, stream="true")
        assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert upstreams["audio"].last()["calls"] == calls


@pytest.mark.parametrize("status, code", [(400, "not_audio"), (503, "overloaded")])
def test_upstream_refusals_before_the_stream_keep_their_status(gateway, upstreams, status, code):
    upstreams["audio"].control(fail_status=status)
    r = post(gateway, "/api/v1/transcriptions", stream="true")
    assert r.status_code == status and r.json()["error"]["code"] == code


def test_a_service_that_cannot_stream_is_501(gateway, upstreams):
    upstreams["audio"].control(stream_mode="absent")
    r = post(gateway, "/api/v1/transcriptions", stream="true")
    assert r.status_code == 501 and r.json()["error"]["code"] == "stream_unsupported"
    assert "retry-after" not in r.headers


@pytest.mark.parametrize("mode, code", [("break", "upstream_disconnected"), ("error", "internal"),
                                        ("stall", "upstream_timeout")])
def test_a_stream_that_fails_midway_ends_with_an_error_event(gateway, upstreams, mode, code):
    upstreams["audio"].control(stream_mode=mode)
    r = post(gateway, "/api/v1/transcriptions", stream="true")  # stall: ends after the route's 5 s
    events = events_of(r.text)
    assert [n for n, _ in events] == ["info", "segment", "error"], events
    assert events[-1][1]["error"]["code"] == code
    r = post(gateway, "/v1/audio/transcriptions", stream="true")
    last = events_of(r.text)[-1][1]
    assert last["type"] == "error" and last["error"]["code"] == code
    # the upstream's slots were given back: normal streams still run (route max_concurrency is 2)
    upstreams["audio"].control(stream_mode="ok")
    for _ in range(3):
        assert events_of(post(gateway, "/api/v1/transcriptions", stream="true").text)[-1][0] == "done"
    metrics = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    assert 'gateway_upstream_inflight{upstream="audio"} 0.0' in metrics


# ---------------------------------------------------------------- pings and clients that go away


@pytest.fixture(scope="module")
def patient_gateway(tmp_path_factory, sqlite_url, upstreams):
    """The audio route waits 60 s for a stalled upstream (so only a disconnect ends a stream
    early), and every event stream gets a ping every 0.3 s (GATEWAY_SSE_PING_S)."""
    gw = GatewayProcess(tmp_path_factory.mktemp("gw-patient"), sqlite_url,
                        default_routes(upstreams, audio={"timeout_s": 60}), env={"GATEWAY_SSE_PING_S": "0.3"})
    with gw:
        yield gw


def stream_lines(client: httpx.Client, path: str, stop, **form):
    """The lines of a streamed transcription until `stop(lines)` is true; then the client leaves."""
    data = {"model": "whisper-1", **form} if path.startswith("/v1/") else form
    lines: list[str] = []
    with client.stream("POST", path, files={"file": ("a.wav", make_wav(), "audio/wav")},
                       data={**data, "stream": "true"}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
        for line in r.iter_lines():
            lines.append(line)
            if stop(lines):
                break
    return lines


def test_a_quiet_transcription_stream_carries_keepalive_pings(patient_gateway, upstreams):
    upstreams["audio"].control(stream_mode="stall")  # info, one segment, then nothing
    with patient_gateway.client(TRANS_KEY) as c:
        lines = stream_lines(c, "/api/v1/transcriptions", lambda ls: sum(x.startswith(":") for x in ls) == 3)
    pings = [x for x in lines if x.startswith(":")]
    assert pings == [": ping"] * 3
    assert [n for n, _ in events_of("\n".join(lines))] == ["info", "segment"]


def test_a_quiet_job_event_stream_carries_keepalive_pings(patient_gateway):
    with patient_gateway.client(ECHO_KEY) as c:
        job = c.post("/api/v1/echo", json={"delay": 1.5}, headers={"Prefer": "respond-async"}).json()["job"]
        with c.stream("GET", f"/api/v1/jobs/{job['id']}/events") as r:
            assert r.headers["x-accel-buffering"] == "no"
            lines = list(r.iter_lines())
    names = [n for n, _ in events_of("\n".join(lines))]
    assert names[0] == "queued" and names[-1] == "succeeded"
    between = lines[lines.index("event: started"):lines.index("event: succeeded")]
    assert ": ping" in between  # the upstream's 1.5 s are not silence on the wire


def test_the_openai_client_reads_a_slow_stream_with_pings(patient_gateway, upstreams):
    """The real `openai` library over a stream with `: ping` comments between its events."""
    upstreams["audio"].control(stream_mode="slow")  # a second after each segment: pings between
    with patient_gateway.client(TRANS_KEY) as c:
        lines = stream_lines(c, "/v1/audio/transcriptions", lambda ls: False)
    assert ": ping" in lines[lines.index("event: transcript.text.delta"):]
    oai = openai.OpenAI(base_url=f"{patient_gateway.url}/v1", api_key=TRANS_KEY, max_retries=0, timeout=30)
    events = list(oai.audio.transcriptions.create(model="whisper-1", file=("a.wav", make_wav(), "audio/wav"),
                                                  stream=True))
    assert [e.type for e in events] == ["transcript.text.delta", "transcript.text.delta", "transcript.text.done"]
    assert "".join(e.delta for e in events[:-1]) == events[-1].text == "hello world second segment"


@pytest.mark.parametrize("path, first", [("/api/v1/transcriptions", "event: segment"),
                                         ("/v1/audio/transcriptions", "event: transcript.text.delta")])
def test_a_client_that_goes_away_frees_the_slot_and_stops_the_upstream(patient_gateway, upstreams, path, first):
    upstreams["audio"].control(stream_mode="stall")
    cut = upstreams["audio"].last()["streams_cut"]
    with patient_gateway.client(TRANS_KEY) as c:
        for _ in range(2):  # both of the route's slots (max_concurrency 2), one after the other
            assert stream_lines(c, path, lambda ls: ls[-1] == first)[-1] == first
    # the disconnect, not the route's 60 s timeout, closes the upstream stream and gives the slot back
    wait_for(lambda: prometheus_sample(patient_gateway.url, "gateway_upstream_inflight", upstream="audio") == 0
             and upstreams["audio"].last()["streams_cut"] >= cut + 2,
             timeout=20, every=0.1, what="no upstream calls in flight after the clients left")
    upstreams["audio"].control(stream_mode="ok")
    for _ in range(3):  # the slots are free: whole streams run at once
        with patient_gateway.client(TRANS_KEY, timeout=10) as c:
            r = c.post(path, files={"file": ("a.wav", make_wav(), "audio/wav")},
                       data={"stream": "true", **({"model": "whisper-1"} if path.startswith("/v1/") else {})})
        assert r.status_code == 200 and events_of(r.text)[-1][1].get("type", "done") in ("done", "transcript.text.done")
