"""Generative answers (a tiny random Llama loaded by the production code) streamed over SSE,
always with citations, and re-ranking by a tiny random cross-encoder, in one real process."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from conftest import ask, ingest, service, sse_events
from kit.testing import prometheus_sample
from tinymodels import tiny_cross_encoder, tiny_llama

OWNER = "gen"
FACT = b"The Kestrel ferry crosses the Wendmere strait in 35 minutes and leaves every hour."


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    path = tmp_path_factory.mktemp("models")
    return {"llm": tiny_llama(path / "llm"), "reranker": tiny_cross_encoder(path / "reranker")}


@pytest.fixture(scope="module")
def gen_server(tmp_path_factory, models):
    env = {"DOCQA_LLM_MODEL": str(models["llm"]), "DOCQA_RERANK_MODEL": str(models["reranker"]),
           "DOCQA_MAX_NEW_TOKENS": "12"}
    with service(tmp_path_factory.mktemp("gen-data"), name="docqa-gen", **env) as proc:
        proc.doc = ingest(proc.url, OWNER, "ferry.txt", FACT, "text/plain")
        yield proc


@pytest.fixture(scope="module")
def long_server(tmp_path_factory, models):
    """Long answers (up to 1000 new tokens: seconds even on a fast CPU) and a ping every 0.2 s."""
    env = {"DOCQA_LLM_MODEL": str(models["llm"]), "DOCQA_MAX_NEW_TOKENS": "1000", "DOCQA_STREAM_PING_S": "0.2"}
    with service(tmp_path_factory.mktemp("long-data"), name="docqa-long", **env) as proc:
        ingest(proc.url, OWNER, "ferry.txt", FACT, "text/plain")
        yield proc


def test_models_loaded(gen_server):
    log = gen_server.log_text()
    assert "re-ranking model" in log and "generative answers" in log


def test_generative_predict_has_citations(gen_server):
    r = ask(gen_server.url, OWNER, "How long does the Kestrel ferry take to cross the strait?")
    assert r["mode"] == "generative" and r["found"] is True
    assert isinstance(r["answer"], str)
    assert r["citations"] and r["citations"][0]["document_id"] == gen_server.doc["id"]
    assert r["citations"][0]["text"] == FACT.decode()


def test_stream_tokens_then_answer(gen_server):
    body = {"instances": [{"op": "ask", "owner": OWNER, "question": "How often does the Kestrel ferry leave?"}]}
    r = httpx.post(f"{gen_server.url}/v1/models/document-qa:stream", json=body, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r)
    names = [e for e, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1 and "error" not in names
    tokens = [d["text"] for e, d in events if e == "token"]
    assert len(tokens) >= 2  # streamed piece by piece, not one block
    final = events[-1][1]
    assert final["mode"] == "generative" and final["found"] is True
    assert final["answer"] == "".join(tokens).strip()
    assert final["citations"][0]["document_id"] == gen_server.doc["id"]


def test_generative_never_answers_without_passages(gen_server):
    body = {"instances": [{"op": "ask", "owner": "nobody", "question": "How often does the Kestrel ferry leave?"}]}
    events = sse_events(httpx.post(f"{gen_server.url}/v1/models/document-qa:stream", json=body, timeout=60))
    assert events == [("answer", {"found": False, "answer": None, "mode": "generative", "citations": []})]


def test_reranked_results_are_the_owners(gen_server):
    ingest(gen_server.url, OWNER, "other.md", b"# Bridges\n\nThe Wendmere bridge opened in 1961.", "")
    r = ask(gen_server.url, OWNER, "When did the Wendmere bridge open?", top_k=2)
    assert r["found"] and 1 <= len(r["citations"]) <= 2
    assert {c["filename"] for c in r["citations"]} <= {"ferry.txt", "other.md"}


LONG_ASK = {"instances": [{"op": "ask", "owner": OWNER, "question": "How often does the Kestrel ferry leave?"}]}


def test_a_slow_answer_carries_keepalive_pings(long_server):
    with httpx.stream("POST", f"{long_server.url}/v1/models/document-qa:stream", json=LONG_ASK, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
        seen = []
        for line in r.iter_lines():
            seen.append(line)
            if line.startswith(":"):
                break
    assert seen[0] == "event: token" and seen[-1] == ": ping", seen
    assert seen[-2] == ""  # a ping lands between whole events only


def test_a_client_that_goes_away_stops_the_generation(long_server):
    before = prometheus_sample(long_server.url, "aip_inference_errors_total", model="document-qa",
                               code="client_closed_request")
    with httpx.stream("POST", f"{long_server.url}/v1/models/document-qa:stream", json=LONG_ASK, timeout=60) as r:
        assert r.status_code == 200
        assert any(line == "event: token" for line in r.iter_lines())  # stops at the first token
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stopped = re.findall(r"generation stopped after (\d+) of at most 1000 new tokens", long_server.log_text())
        counted = prometheus_sample(long_server.url, "aip_inference_errors_total", model="document-qa",
                                    code="client_closed_request")
        if stopped and counted > before:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the generation went on after the client left:\n" + long_server.log_text()[-2000:])
    assert int(stopped[-1]) < 1000
    # the service goes on answering
    events = sse_events(httpx.post(f"{long_server.url}/v1/models/document-qa:stream", timeout=60, json={
        "instances": [{"op": "ask", "owner": "nobody", "question": "How often does the Kestrel ferry leave?"}]}))
    assert [e for e, _ in events] == ["answer"]
