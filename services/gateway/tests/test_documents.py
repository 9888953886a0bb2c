"""Document QA through the gateway: /api/v1/documents, /api/v1/questions and the OpenAI-compatible
/v1/embeddings, against a real gateway process and a document-qa upstream: the real
document-qa-service (`real`) and the loopback server that speaks its contract (`contract`)."""

from __future__ import annotations

import base64
import json
import struct
import time

import httpx
import openai
import pytest
from conftest import ADMIN_KEY, SEED_KEYS, TRANS_KEY, GatewayProcess, Upstream, free_port, make_png
from docqa_service import RealDocQa

DOCS_KEY = "test-docs-key-0000001"
FACTS = ("# Harbour office\n\nThe harbour office opens at seven in the morning.\n\n"
         "Visitors must register at the blue kiosk beside the ferry ramp.\n\n"
         "The lighthouse was painted red in 1952 by the volunteer crew.\n")
OTHER = "Quarterly notes.\n\nThe warehouse inventory count happens every Thursday afternoon.\n"


@pytest.fixture(scope="module", params=["contract", "real"])
def docqa_upstream(request, tmp_path_factory):
    if request.param == "contract":
        up = Upstream("document-qa")
    else:
        up = RealDocQa(tmp_path_factory.mktemp("docqa-data"))
    with up:
        yield up


@pytest.fixture(scope="module")
def docqa_gw(tmp_path_factory, sqlite_url, docqa_upstream):
    routes = {"routes": [
        {"name": "document-qa", "kind": "document-qa", "resource": "documents", "upstream": docqa_upstream.url,
         "model": "document-qa", "scopes": ["documents"], "timeout_s": 120, "max_upload_mb": 1},
    ]}
    gw = GatewayProcess(tmp_path_factory.mktemp("gw-docqa"), sqlite_url, routes,
                        env={"GATEWAY_API_KEYS": f"{SEED_KEYS};{DOCS_KEY}:documents",
                             "GATEWAY_DOCQA_ASYNC_OVER_MB": "0.05"})
    with gw:
        yield gw


def upload(c: httpx.Client, name: str, data: bytes, ctype: str = "text/markdown", **kw) -> httpx.Response:
    return c.post("/api/v1/documents", files={"file": (name, data, ctype)}, **kw)


def sse_events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_upload_list_get_ask_stream_delete(docqa_gw):
    with docqa_gw.client() as c:
        up = upload(c, "harbour.md", FACTS.encode())
        assert up.status_code == 201, up.text
        doc = up.json()["document"]
        assert up.headers["location"] == f"/api/v1/documents/{doc['id']}"
        assert doc["filename"] == "harbour.md" and doc["content_type"] == "text/markdown"
        assert doc["chunks"] >= 1 and doc["characters"] > 100
        listed = c.get("/api/v1/documents")
        assert listed.status_code == 200, listed.text
        assert doc["id"] in [d["id"] for d in listed.json()["documents"]]
        got = c.get(f"/api/v1/documents/{doc['id']}")
        assert got.status_code == 200 and got.json()["document"]["id"] == doc["id"]

        ans = c.post("/api/v1/questions", json={"question": "Where must visitors register?"})
        assert ans.status_code == 200, ans.text
        body = ans.json()
        assert body["found"] is True and "blue kiosk" in body["answer"]
        cite = body["citations"][0]
        assert cite["document_id"] == doc["id"] and cite["filename"] == "harbour.md" and cite["page"] == 1
        assert "blue kiosk" in cite["text"]
        assert FACTS[cite["start"]:cite["end"]].strip() and "kiosk" in FACTS[cite["start"]:cite["end"]]

        streamed = c.post("/api/v1/questions", json={"question": "Where must visitors register?", "stream": True})
        assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
        events = sse_events(streamed.text)
        assert events[-1][0] == "answer" and events[-1][1]["citations"][0]["document_id"] == doc["id"]
        by_accept = c.post("/api/v1/questions", json={"question": "What colour is the lighthouse?"},
                           headers={"accept": "text/event-stream"})
        assert sse_events(by_accept.text)[-1][1]["found"] is True

        assert c.delete(f"/api/v1/documents/{doc['id']}").status_code == 204
        gone = c.get(f"/api/v1/documents/{doc['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "document_not_found"
        assert doc["id"] not in [d["id"] for d in c.get("/api/v1/documents").json()["documents"]]
        after = c.post("/api/v1/questions", json={"question": "Where must visitors register?",
                                                  "document_ids": [doc["id"]]})
        assert after.status_code == 404 and after.json()["error"]["code"] == "document_not_found"
        nothing = c.post("/api/v1/questions", json={"question": "Where must visitors register?"}).json()
        assert all(ci["document_id"] != doc["id"] for ci in nothing["citations"])


def test_owners_never_see_each_others_documents(docqa_gw):
    with docqa_gw.client() as admin, docqa_gw.client(DOCS_KEY) as other:
        mine = upload(admin, "harbour.md", FACTS.encode()).json()["document"]
        theirs = upload(other, "notes.txt", OTHER.encode(), "text/plain").json()["document"]
        assert theirs["content_type"] == "text/plain"
        assert [d["id"] for d in other.get("/api/v1/documents").json()["documents"]] == [theirs["id"]]
        assert mine["id"] in [d["id"] for d in admin.get("/api/v1/documents").json()["documents"]]
        assert theirs["id"] not in [d["id"] for d in admin.get("/api/v1/documents").json()["documents"]]
        assert other.get(f"/api/v1/documents/{mine['id']}").status_code == 404
        assert other.delete(f"/api/v1/documents/{mine['id']}").status_code == 404
        asked = other.post("/api/v1/questions", json={"question": "Where must visitors register at the kiosk?"})
        assert all(ci["document_id"] != mine["id"] for ci in asked.json()["citations"])
        targeted = other.post("/api/v1/questions", json={"question": "Where must visitors register?",
                                                         "document_ids": [mine["id"]]})
        assert targeted.status_code == 404 and targeted.json()["error"]["code"] == "document_not_found"
        assert admin.get(f"/api/v1/documents/{mine['id']}").status_code == 200  # still there
        for d in (mine["id"],):
            admin.delete(f"/api/v1/documents/{d}")
        other.delete(f"/api/v1/documents/{theirs['id']}")
    with docqa_gw.client(TRANS_KEY) as trans:
        r = trans.get("/api/v1/documents")
        assert r.status_code == 403 and "documents" in r.json()["error"]["message"]
        assert trans.post("/api/v1/questions", json={"question": "x"}).status_code == 403


def test_bad_inputs_get_clear_4xx_and_lose_nothing(docqa_gw):
    with docqa_gw.client() as c:
        kept = upload(c, "harbour.md", FACTS.encode()).json()["document"]
        empty = upload(c, "empty.txt", b"", "text/plain")
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_file"
        png = upload(c, "photo.png", make_png(), "image/png")
        assert png.status_code == 415 and "DOCX" in png.json()["error"]["message"]
        corrupt = upload(c, "broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20, "application/pdf")
        assert 400 <= corrupt.status_code < 500, corrupt.text
        assert corrupt.json()["error"]["message"]
        oversize = upload(c, "big.txt", b"word " * 300_000, "text/plain")
        assert oversize.status_code == 413 and "1 MB" in oversize.json()["error"]["message"]
        huge_q = c.post("/api/v1/questions", json={"question": "why " * 25_000})
        assert huge_q.status_code == 422 and "question" in huge_q.json()["error"]["message"]
        blank = c.post("/api/v1/questions", json={"question": "   "})
        assert blank.status_code == 422
        bad_id = c.get("/api/v1/documents/" + "x" * 200)
        assert bad_id.status_code == 422
        assert c.get("/healthz").status_code == 200
        assert kept["id"] in [d["id"] for d in c.get("/api/v1/documents").json()["documents"]]
        assert c.post("/api/v1/questions", json={"question": "Where must visitors register?"}).json()["found"]
        c.delete(f"/api/v1/documents/{kept['id']}")


def _wait_job(c: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_async_and_large_uploads_become_jobs(docqa_gw):
    with docqa_gw.client() as c:
        asked = upload(c, "harbour.md", FACTS.encode(), params={"async": "true"})
        assert asked.status_code == 202 and asked.headers["location"].startswith("/api/v1/jobs/")
        preferred = upload(c, "harbour.md", FACTS.encode(), headers={"prefer": "respond-async"})
        assert preferred.status_code == 202
        large = upload(c, "large.md", (FACTS * 400).encode())  # ~78 kB > GATEWAY_DOCQA_ASYNC_OVER_MB=0.05
        assert large.status_code == 202, large.text
        ids = []
        for r in (asked, preferred, large):
            job = _wait_job(c, r.json()["job"]["id"])
            assert job["state"] == "succeeded" and job["progress"] == 1.0, job
            assert job["kind"] == "document-qa"
            ids.append(job["result"]["document"]["id"])
        events = c.get(f"/api/v1/jobs/{large.json()['job']['id']}/events")
        assert events.status_code == 200
        listed = {d["id"] for d in c.get("/api/v1/documents").json()["documents"]}
        assert set(ids) <= listed
        for i in ids:
            assert c.delete(f"/api/v1/documents/{i}").status_code == 204


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_openai_client_embeds_through_the_gateway(docqa_gw):
    client = openai.OpenAI(base_url=f"{docqa_gw.url}/v1", api_key=ADMIN_KEY, max_retries=0)
    texts = ["The harbour office opens at seven.", "The lighthouse is red.", "The harbour office opens at 7."]
    floats = client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1, 2] and floats.object == "list"
    dim = len(floats.data[0].embedding)
    assert dim > 0 and all(len(d.embedding) == dim for d in floats.data)
    assert floats.usage.prompt_tokens > 0 and floats.usage.total_tokens == floats.usage.prompt_tokens
    default = client.embeddings.create(model="document-qa", input=texts)  # the client asks for base64
    for a, b in zip(floats.data, default.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    one = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts[0], encoding_format="float")
    assert one.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-5)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="dall-e-3", input="x")
    with pytest.raises(openai.UnprocessableEntityError):
        client.embeddings.create(model="document-qa", input="")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{docqa_gw.url}/v1", api_key="wrong-key-123", max_retries=0) \
            .embeddings.create(model="document-qa", input="x")
    raw = httpx.post(f"{docqa_gw.url}/v1/embeddings", headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                     json={"model": "document-qa", "input": ["x y"], "encoding_format": "base64"}).json()
    packed = base64.b64decode(raw["data"][0]["embedding"])
    assert len(packed) == 4 * dim and all(isinstance(v, float) for v in struct.unpack(f"<{dim}f", packed))


def test_a_client_that_leaves_a_streamed_answer_closes_the_upstream_stream(tmp_path):
    """The client reads the first token and goes; the gateway closes its upstream stream at once
    (the document-qa service then stops generating: services/document-qa/tests/test_generative.py)."""
    with Upstream("document-qa") as up:
        routes = {"routes": [{"name": "document-qa", "kind": "document-qa", "resource": "documents",
                              "upstream": up.url, "model": "document-qa", "scopes": ["documents"], "timeout_s": 60}]}
        with GatewayProcess(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", routes) as gw, gw.client() as c:
            assert upload(c, "harbour.md", FACTS.encode()).status_code == 201
            up.control(token_delay=0.5)  # ten words: five seconds of answer
            with c.stream("POST", "/api/v1/questions",
                          json={"question": "Where must visitors register?", "stream": True}) as r:
                assert r.status_code == 200 and r.headers["x-accel-buffering"] == "no"
                assert any(line == "event: token" for line in r.iter_lines())  # leaves at the first token
            deadline = time.monotonic() + 20
            while up.last()["streams_cut"] == 0:
                assert time.monotonic() < deadline, "the upstream stream went on after the client left"
                time.sleep(0.1)
            up.control(token_delay=0)
            whole = c.post("/api/v1/questions", json={"question": "Where must visitors register?", "stream": True})
            assert sse_events(whole.text)[-1][0] == "answer"


def test_upstream_down_is_a_clear_503(tmp_path, sqlite_url):
    routes = {"routes": [{"name": "document-qa", "kind": "document-qa", "resource": "documents",
                          "upstream": f"http://127.0.0.1:{free_port()}", "scopes": ["documents"], "retries": 0}]}
    with GatewayProcess(tmp_path, sqlite_url, routes) as gw, gw.client() as c:
        for r in (c.get("/api/v1/documents"),
                  c.post("/api/v1/questions", json={"question": "anything?"}),
                  c.post("/api/v1/questions", json={"question": "anything?", "stream": True}),
                  upload(c, "a.md", FACTS.encode())):
            assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable", r.text
            assert "document-qa" in r.json()["error"]["message"]
