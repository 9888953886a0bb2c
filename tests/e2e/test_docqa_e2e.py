"""Document QA end to end: the real gateway in front of the real document-qa-service.

Restart durability (ingest, kill -9 the service, start it again on the same data, ask: the
citation is still there), owner isolation between two keys, bad inputs answered 4xx with a
clear message while everything stays up, and OpenAI-client embeddings from the real model."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from textpdf import text_pdf  # noqa: E402

FACTS_PAGE_1 = "Harbour office notes. The office keeps the ferry timetable for the island routes."
FACTS_PAGE_2 = "Visitors must register at the blue kiosk beside the ferry ramp before boarding."
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
OTHER_DOC = ("# Warehouse\n\nThe warehouse inventory count happens every Thursday afternoon.\n\n"
             "Forklift keys are kept in the locked cabinet in the loading bay office.\n")


def client(gateway, key: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=300)


def upload(c: httpx.Client, name: str, data: bytes, ctype: str) -> httpx.Response:
    return c.post("/api/v1/documents", files={"file": (name, data, ctype)})


def ask_until_up(c: httpx.Client, body: dict, timeout: float = 60) -> httpx.Response:
    """Ask, retrying while the gateway still reports the restarted upstream as down."""
    deadline = time.monotonic() + timeout
    while True:
        r = c.post("/api/v1/questions", json=body)
        if r.status_code not in (502, 503, 504) or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def test_a_citation_survives_kill_9_of_the_service(gateway, keys, docqa_service):
    with client(gateway, keys["docs_a"]) as c:
        up = upload(c, "harbour.pdf", text_pdf([FACTS_PAGE_1, FACTS_PAGE_2]), "application/pdf")
        assert up.status_code == 201, up.text
        doc = up.json()["document"]
        assert doc["pages"] == 2 and doc["sources"]["text"] == 2
        question = {"question": "Where must visitors register before boarding?"}
        before = c.post("/api/v1/questions", json=question).json()
        assert before["found"], before
        cite = before["citations"][0]
        assert cite["document_id"] == doc["id"] and cite["page"] == 2 and "blue kiosk" in cite["text"]

        docqa_service.kill()
        down = c.post("/api/v1/questions", json=question)
        assert down.status_code == 503 and "document-qa" in down.json()["error"]["message"], down.text
        docqa_service.start()

        after = ask_until_up(c, question)
        assert after.status_code == 200, after.text
        again = after.json()["citations"][0]
        assert (again["document_id"], again["page"]) == (doc["id"], 2) and "blue kiosk" in again["text"]
        assert doc["id"] in [d["id"] for d in c.get("/api/v1/documents").json()["documents"]]
        assert c.delete(f"/api/v1/documents/{doc['id']}").status_code == 204


def test_two_keys_never_see_each_others_documents(gateway, keys, docqa_service):
    with client(gateway, keys["docs_a"]) as a, client(gateway, keys["docs_b"]) as b:
        mine = upload(a, "harbour.pdf", text_pdf([FACTS_PAGE_1, FACTS_PAGE_2]), "application/pdf")
        theirs = upload(b, "warehouse.md", OTHER_DOC.encode(), "text/markdown")
        assert mine.status_code == 201 and theirs.status_code == 201, (mine.text, theirs.text)
        mine, theirs = mine.json()["document"], theirs.json()["document"]
        a_ids = {d["id"] for d in a.get("/api/v1/documents").json()["documents"]}
        b_ids = {d["id"] for d in b.get("/api/v1/documents").json()["documents"]}
        assert mine["id"] in a_ids and theirs["id"] not in a_ids
        assert theirs["id"] in b_ids and mine["id"] not in b_ids
        for other, doc in ((b, mine), (a, theirs)):
            got = other.get(f"/api/v1/documents/{doc['id']}")
            assert got.status_code == 404 and got.json()["error"]["code"] == "document_not_found"
            assert other.delete(f"/api/v1/documents/{doc['id']}").status_code == 404
        b_asks = b.post("/api/v1/questions", json={"question": "Where must visitors register before boarding?"})
        assert b_asks.status_code == 200
        assert all(ci["document_id"] != mine["id"] for ci in b_asks.json()["citations"])
        b_targets = b.post("/api/v1/questions", json={"question": "Where must visitors register?",
                                                      "document_ids": [mine["id"]]})
        assert b_targets.status_code == 404 and b_targets.json()["error"]["code"] == "document_not_found"
        a_asks = a.post("/api/v1/questions", json={"question": "When is the warehouse inventory count?"}).json()
        assert all(ci["document_id"] != theirs["id"] for ci in a_asks["citations"])
        # the other's failed delete lost nothing
        assert a.get(f"/api/v1/documents/{mine['id']}").status_code == 200
        assert b.get(f"/api/v1/documents/{theirs['id']}").status_code == 200
        assert a.delete(f"/api/v1/documents/{mine['id']}").status_code == 204
        assert b.delete(f"/api/v1/documents/{theirs['id']}").status_code == 204
    with client(gateway, keys["statements"]) as s:
        assert s.get("/api/v1/documents").status_code == 403


def test_bad_inputs_are_4xx_and_everything_stays_up(gateway, keys, docqa_service):
    with client(gateway, keys["docs_a"]) as c:
        kept = upload(c, "warehouse.md", OTHER_DOC.encode(), "text/markdown").json()["document"]
        corrupt = upload(c, "broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog" + bytes(range(256)) * 40,
                         "application/pdf")
        empty = upload(c, "empty.txt", b"", "text/plain")
        unsupported = upload(c, "photo.png", PNG_HEADER + bytes(64), "image/png")
        binary = upload(c, "blob.bin", bytes(range(256)) * 16, "application/octet-stream")
        oversize = upload(c, "huge.txt", b"a" * (51 * 1024 * 1024), "text/plain")
        long_q = c.post("/api/v1/questions", json={"question": "why " * 25_000})
        for r in (corrupt, empty, unsupported, binary, oversize, long_q):
            assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
            msg = r.json()["error"]["message"]
            assert 10 < len(msg) < 400 and "Traceback" not in msg, msg
        assert empty.json()["error"]["code"] == "empty_file"
        assert unsupported.status_code == 415 and binary.status_code == 415
        assert oversize.status_code == 413 and "50 MB" in oversize.json()["error"]["message"]
        assert long_q.status_code == 422 and "question" in long_q.json()["error"]["message"]
        assert "pdf" in corrupt.json()["error"]["message"].lower()

        health = httpx.get(f"{gateway.url}/api/v1/health", timeout=30).json()
        assert {u["name"]: u["ready"] for u in health["upstreams"]}["document-qa"], health
        listed = {d["id"] for d in c.get("/api/v1/documents").json()["documents"]}
        assert kept["id"] in listed and len(listed) == 1, listed
        answer = c.post("/api/v1/questions", json={"question": "When is the warehouse inventory count?"}).json()
        assert answer["found"] and answer["citations"][0]["document_id"] == kept["id"]
        assert c.delete(f"/api/v1/documents/{kept['id']}").status_code == 204


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_openai_client_embeds_with_the_real_model(gateway, keys, docqa_service):
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["docs_a"], max_retries=0, timeout=300)
    texts = ["The ferry leaves the harbour at seven.", "At 7 o'clock the boat departs from the port.",
             "Quarterly revenue grew by four percent."]
    out = oai.embeddings.create(model="text-embedding-3-small", input=texts)
    vecs = [d.embedding for d in out.data]
    assert len(vecs) == 3 and len(vecs[0]) == 384  # all-MiniLM-L6-v2
    assert _cos(vecs[0], vecs[1]) > _cos(vecs[0], vecs[2]) + 0.2
    assert out.usage.prompt_tokens > 10
