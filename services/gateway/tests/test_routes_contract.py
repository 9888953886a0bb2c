"""The route table contract with the operator: the gateway serves, whole, the routes.json the
operator renders (tests/contracts/routes.sample.json, kept fresh by the operator's
tests/test_routes.py), v1 and v2 routes side by side; a bad entry loses only itself."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN_KEY, GatewayProcess, Upstream, default_routes, make_png, make_wav

from gateway.oip import decode_prediction, json_request, upload_request
from gateway.routetable import parse_routes_lenient

SAMPLE = Path(__file__).resolve().parents[3] / "tests" / "contracts" / "routes.sample.json"


@pytest.fixture(scope="module")
def sample_upstreams(upstreams):
    """Real upstream processes for the sample's four models (audio and vlm are shared)."""
    extra = {"document-qa": Upstream("document-qa"), "translation": Upstream("translation")}
    try:
        for u in extra.values():
            u.start()
        yield {"audio": upstreams["audio"], "vlm": upstreams["vlm"], **extra}
    finally:
        for u in extra.values():
            u.stop()


@pytest.fixture(scope="module")
def sample_gateway(tmp_path_factory, sqlite_url, sample_upstreams):
    """The operator's table as rendered, with only the cluster addresses swapped for loopback."""
    table = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for route in table["routes"]:
        route["upstream"] = sample_upstreams[route["name"]].url
    gw = GatewayProcess(tmp_path_factory.mktemp("gw-sample"), sqlite_url, table)
    with gw:
        yield gw, table


def test_sample_holds_v1_and_v2_routes():
    protocols = {r["name"]: r["protocol"] for r in json.loads(SAMPLE.read_text())["routes"]}
    assert protocols["audio"] == "v2" and protocols["vlm"] == "v1"


def test_operator_table_is_served_whole(sample_gateway):
    gw, table = sample_gateway
    with gw.client() as c:
        services = {s["name"]: s for s in c.get("/api/v1/services").json()["services"]}
        health = c.get("/api/v1/health").json()
    assert set(services) == {r["name"] for r in table["routes"]}
    assert {s["path"] for s in services.values()} == {r["path"] for r in table["routes"]}
    assert "routes_error" not in health or health["routes_error"] is None
    assert all(u["ready"] for u in health["upstreams"]), health
    assert all(u["device"] is None for u in health["upstreams"])  # these upstreams have no GET /device


def test_v2_transcription_route_speaks_v2(sample_gateway, sample_upstreams):
    gw, _ = sample_gateway
    with gw.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.2), "audio/wav")},
                   data={"language": "en", "word_timestamps": "true", "response_format": "json"},
                   headers={"x-request-id": "rid-v2-contract"})
        last = sample_upstreams["audio"].last()["last"]
        srt = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.2), "audio/wav")},
                     data={"response_format": "srt"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == " hello world second segment"
    assert r.json()["segments"][0]["words"][0]["word"] == " hello"
    assert last["protocol"] == "v2" and last["input"] == "audio"
    assert last["parameters"] == {"language": "en", "task": "transcribe", "word_timestamps": True}
    assert last["headers"]["x-request-id"] == "rid-v2-contract"
    assert srt.status_code == 200 and srt.text.startswith("1\n00:00:00,000 --> 00:00:01,000\nhello world\n")


def test_v1_statement_and_generic_routes_next_to_it(sample_gateway, sample_upstreams):
    gw, _ = sample_gateway
    with gw.client() as c:
        r = c.post("/api/v1/statements", files={"file": ("s.png", make_png(), "image/png")},
                   data={"date_order": "YMD"})
        t = c.post("/api/v1/translations", json={"text": "Hallo Welt", "target": "en"})
        up = c.post("/api/v1/documents", files={"file": ("a.md", b"Berlin is the capital of Germany.", "text/markdown")})
        q = c.post("/api/v1/questions", json={"question": "What is the capital of Germany?"})
    assert r.status_code == 200, r.text
    assert r.json()["options"]["date_order"] == "YMD"
    assert "protocol" not in sample_upstreams["vlm"].last()["last"]  # the v1 path
    assert t.status_code == 200 and t.json() == {"echo": {"text": "Hallo Welt", "target": "en", "source": "auto"},
                                                 "model": "translation"}
    assert up.status_code == 201, up.text
    assert q.status_code == 200 and q.json()["citations"][0]["document_id"] == up.json()["document"]["id"]


def test_a_bad_route_is_left_out_alone_and_reported(tmp_path, sqlite_url, upstreams):
    good = default_routes(upstreams)
    table = copy.deepcopy(good)
    table["routes"][0]["protocol"] = "v2"  # audio over v2: valid
    table["routes"] += [
        {"name": "future", "kind": "custom", "upstream": upstreams["echo"].url, "protocol": "v3"},
        {"name": "clash", "kind": "custom", "resource": "echo", "upstream": upstreams["echo"].url},
        {"name": "Bad Name", "kind": "custom", "upstream": upstreams["echo"].url},
        "not an object",
    ]
    gw = GatewayProcess(tmp_path, sqlite_url, table)
    with gw, gw.client() as c:
        names = [s["name"] for s in c.get("/api/v1/services").json()["services"]]
        assert names == ["audio", "vlm", "echo"]
        err = c.get("/api/v1/health").json()["routes_error"]
        assert "'future' rejected: protocol" in err and "'clash' rejected: resource 'echo'" in err
        assert "'Bad Name' rejected: name" in err and "'#6' rejected" in err
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.1), "audio/wav")})
        assert r.status_code == 200, r.text
        assert upstreams["audio"].last()["last"]["protocol"] == "v2"
        assert c.post("/api/v1/echo", json={"a": 1}).json() == {"echo": {"a": 1}, "model": "custom"}
        # fixing the file brings the route in; a file that is not a table keeps the last good one
        gw.write_routes({"routes": table["routes"][:3] + [
            {"name": "future", "kind": "custom", "resource": "future", "upstream": upstreams["echo"].url,
             "model": "custom", "protocol": "v2"}]})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "future" not in [
                s["name"] for s in c.get("/api/v1/services").json()["services"]]:
            time.sleep(0.2)
        r = c.post("/api/v1/future", json={"text": "v2 generic"})
        assert r.status_code == 200, r.text
        assert r.json() == {"echo": {"text": "v2 generic"}, "model": "custom", "protocol": "v2"}
        gw.write_routes({"routes": "nope"})
        time.sleep(1.0)
        assert c.post("/api/v1/future", json={}).status_code == 200
    assert "route 'future' rejected" in gw.log_text()


def test_lenient_parser_and_v2_bodies():
    routes, problems = parse_routes_lenient(json.dumps({"routes": [
        {"name": "a", "kind": "custom", "upstream": "http://a", "protocol": "v2"},
        {"name": "b", "kind": "custom", "upstream": "http://b", "protocol": "grpc"},
    ]}))
    assert [r.name for r in routes] == ["a"] and len(problems) == 1 and "'b'" in problems[0]
    path, body = upload_request("v2", "audio", "audio", b"RIFF", {"language": "en", "beam_size": None,
                                                                  "temperature": 0.2})
    assert path == "/v2/models/audio/infer"
    assert body == {"inputs": [{"name": "audio", "shape": [1], "datatype": "BYTES", "data": ["UklGRg=="]}],
                    "parameters": {"language": "en", "temperature": 0.2}}
    assert json_request("v2", "m", {"inputs": [{"name": "x"}]})[1] == {"inputs": [{"name": "x"}]}
    answer = {"outputs": [{"name": "result", "shape": [1], "datatype": "BYTES", "data": ['{"text": "hi"}']}]}
    assert decode_prediction("v2", answer, "r") == {"text": "hi"}
    with pytest.raises(Exception, match="no v2 outputs"):
        decode_prediction("v2", {"predictions": [{}]}, "r")
    raw = {"outputs": [{"name": "scores", "datatype": "FP32", "shape": [2], "data": [0.1, 0.9]}]}
    assert decode_prediction("v2", raw, "r", generic=True) == {"outputs": raw["outputs"]}


def test_the_seeded_admin_key_reads_the_sample(sample_gateway):
    gw, _ = sample_gateway
    r = httpx.get(f"{gw.url}/api/v1/me", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert r.status_code == 200
