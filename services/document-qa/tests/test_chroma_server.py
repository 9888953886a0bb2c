"""The cluster mode: the same service code against a real `chroma run` server process (from
the chromadb wheel), vectors stored in the server, owners isolated, deletes reaching it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import ask, call, ingest, ok, service
from document_qa_service import testdocs


@pytest.fixture(scope="module")
def remote(chroma, tmp_path_factory):
    with service(tmp_path_factory.mktemp("meta"), name="docqa-remote", DOCQA_CHROMA_URL=chroma.url,
                 DOCQA_COLLECTION="test_chunks") as proc:
        yield proc


def collections(chroma) -> dict[str, int]:
    """Name -> record count of every collection in the Chroma server."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma.port,
                                 settings=chromadb.config.Settings(anonymized_telemetry=False))
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    return {n: client.get_collection(n).count() for n in names}


def chunks_of(owner: str) -> str:
    """The owner's chunk collection (README: one collection per owner)."""
    return f"test_chunks-{hashlib.sha256(owner.encode()).hexdigest()[:40]}"


def test_vectors_live_in_the_server(chroma, remote):
    doc = ingest(remote.url, "srv-a", "garden.html", testdocs.html_document("garden").encode(), "text/html")
    before = collections(chroma)
    assert before[chunks_of("srv-a")] == doc["chunks"] >= 1 and before["test_chunks_documents"] >= 1
    assert not (Path(remote.env["DOCQA_DATA_DIR"]) / "chroma").exists()  # no embedded store at all
    r = ask(remote.url, "srv-a", "How many raised beds does Greenfield Community Garden have?")
    assert r["found"] and "48" in r["answer"] and r["citations"][0]["document_id"] == doc["id"]

    assert ask(remote.url, "srv-b", "How many raised beds does Greenfield Community Garden have?")["found"] is False
    assert call(remote.url, op="delete", owner="srv-b", document_id=doc["id"]).status_code == 404
    assert collections(chroma)[chunks_of("srv-a")] == doc["chunks"]
    assert collections(chroma).get(chunks_of("srv-b"), 0) == 0  # the other owner holds nothing

    assert ok(remote.url, op="delete", owner="srv-a", document_id=doc["id"]) == {"deleted": doc["id"]}
    after = collections(chroma)
    assert after[chunks_of("srv-a")] == 0 and after["test_chunks_documents"] == before["test_chunks_documents"] - 1
    assert ask(remote.url, "srv-a", "How many raised beds does Greenfield Community Garden have?")["found"] is False


def test_service_restart_keeps_server_vectors(chroma, remote):
    doc = ingest(remote.url, "srv-c", "clinic.txt", testdocs.text_document("clinic").encode(), "text/plain")
    remote.kill()
    remote.start()
    r = ask(remote.url, "srv-c", "Who is the head veterinarian at Birchwood?")
    assert r["found"] and "Sollander" in r["answer"] and r["citations"][0]["document_id"] == doc["id"]


def test_new_pod_with_empty_disk_rebuilds_from_the_server(chroma, remote, tmp_path):
    """A replacement pod (empty data dir, as in a cluster without a volume) restores the document
    list and the BM25 index from the Chroma server."""
    doc = ingest(remote.url, "srv-d", "museum.txt", testdocs.text_document("museum").encode(), "text/plain")
    listed = ok(remote.url, op="list", owner="srv-d")["documents"]
    remote.stop()
    with service(tmp_path / "fresh", name="docqa-fresh", DOCQA_CHROMA_URL=chroma.url,
                 DOCQA_COLLECTION="test_chunks") as fresh:
        assert "documents restored from chroma" in fresh.log_text()
        assert ok(fresh.url, op="list", owner="srv-d")["documents"] == listed
        r = ask(fresh.url, "srv-d", "Where can museum visitors park?")
        assert r["found"] and r["citations"][0]["document_id"] == doc["id"]
        # the keyword index came back too: an exact-name query ranks the right chunk first
        r = ask(fresh.url, "srv-d", "Otto Brandvik glassmaker 1874")
        assert r["found"] and "Brandvik" in r["answer"]
        assert ok(fresh.url, op="delete", owner="srv-d", document_id=doc["id"]) == {"deleted": doc["id"]}
    remote.start()
    # the first pod learns about the delete at its start
    assert ok(remote.url, op="list", owner="srv-d")["documents"] == []
