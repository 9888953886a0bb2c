"""Several replicas on one Chroma server: two real document-qa processes, each with its own data
directory (its own SQLite BM25 index), see each other's ingests and deletes at once (the owner
collection's revision, README "Several replicas"), and owners stay isolated."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from conftest import ask, call, ingest, ok, service
from document_qa_service import testdocs

ALICE, BOB = "rep-alice", "rep-bob"
QUESTION = "How many raised beds does Greenfield Community Garden have?"


@pytest.fixture(scope="module")
def pods(chroma, tmp_path_factory):
    with service(tmp_path_factory.mktemp("pod-a"), name="docqa-pod-a", DOCQA_CHROMA_URL=chroma.url,
                 DOCQA_COLLECTION="replica_chunks") as a, \
         service(tmp_path_factory.mktemp("pod-b"), name="docqa-pod-b", DOCQA_CHROMA_URL=chroma.url,
                 DOCQA_COLLECTION="replica_chunks") as b:
        yield a, b


def bm25_rows(pod, document_id: str) -> int:
    """The pod's own BM25 (SQLite FTS5) rows of a document, read from its data directory."""
    path = Path(pod.env["DOCQA_DATA_DIR"]) / "documents.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM chunks_fts WHERE document_id = ?", (document_id,)).fetchone()[0]


def test_replicas_see_each_others_writes(pods):
    a, b = pods
    doc = ingest(a.url, ALICE, "garden.html", testdocs.html_document("garden").encode(), "text/html")
    assert bm25_rows(b, doc["id"]) == 0  # B has not looked yet

    r = ask(b.url, ALICE, QUESTION)
    assert r["found"] and "48" in r["answer"] and r["citations"][0]["document_id"] == doc["id"]
    assert bm25_rows(b, doc["id"]) == doc["chunks"] >= 1  # B's keyword index has the chunks now
    assert ok(b.url, op="list", owner=ALICE)["documents"] == ok(a.url, op="list", owner=ALICE)["documents"]
    assert ok(b.url, op="get", owner=ALICE, document_id=doc["id"])["document"] == doc

    # another owner sees nothing on either pod, and cannot delete it through B
    assert ask(b.url, BOB, QUESTION)["found"] is False
    assert ok(b.url, op="list", owner=BOB)["documents"] == []
    assert call(b.url, op="delete", owner=BOB, document_id=doc["id"]).status_code == 404
    assert ask(a.url, ALICE, QUESTION)["found"]

    # deleted on B: gone from A's list, get, answers and BM25 rows without a restart
    assert ok(b.url, op="delete", owner=ALICE, document_id=doc["id"]) == {"deleted": doc["id"]}
    assert ok(a.url, op="list", owner=ALICE)["documents"] == []
    assert call(a.url, op="get", owner=ALICE, document_id=doc["id"]).status_code == 404
    assert ask(a.url, ALICE, QUESTION)["found"] is False
    assert bm25_rows(a, doc["id"]) == 0
    assert call(a.url, op="delete", owner=ALICE, document_id=doc["id"]).status_code == 404


def test_interleaved_writes_on_both_pods(pods):
    """Ingests on both pods for one owner: each pod lists both and answers from either."""
    a, b = pods
    on_a = ingest(a.url, ALICE, "clinic.txt", testdocs.text_document("clinic").encode(), "text/plain")
    on_b = ingest(b.url, ALICE, "museum.txt", testdocs.text_document("museum").encode(), "text/plain")
    for pod in (a, b):
        assert {d["id"] for d in ok(pod.url, op="list", owner=ALICE)["documents"]} == {on_a["id"], on_b["id"]}
        r = ask(pod.url, ALICE, "Who is the head veterinarian at Birchwood?")
        assert r["found"] and "Sollander" in r["answer"] and r["citations"][0]["document_id"] == on_a["id"]
        # an exact-name query: BM25's side of the hybrid ranking, on a pod that did not ingest it too
        r = ask(pod.url, ALICE, "Otto Brandvik glassmaker 1874")
        assert r["found"] and "Brandvik" in r["answer"] and r["citations"][0]["document_id"] == on_b["id"]
    assert ok(a.url, op="delete", owner=ALICE, document_id=on_b["id"]) == {"deleted": on_b["id"]}
    assert [d["id"] for d in ok(b.url, op="list", owner=ALICE)["documents"]] == [on_a["id"]]
    assert "store refresh" in b.log_text()
