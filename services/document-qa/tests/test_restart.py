"""Durability: documents ingested before a kill -9 are listed and answered after a restart."""

from __future__ import annotations

from conftest import ask, ingest, ok, service
from document_qa_service import testdocs


def test_kill_9_and_restart(tmp_path):
    data = tmp_path / "data"
    question = "How many books can a Quill Valley Library card holder borrow at once?"
    with service(data, name="docqa-before") as proc:
        doc = ingest(proc.url, "owner-r", "railway.pdf", testdocs.pdf_document("railway"), "application/pdf")
        other = ingest(proc.url, "owner-r", "library.md", testdocs.markdown_document("library").encode(), "text/markdown")
        assert ask(proc.url, "owner-r", question)["found"]
        proc.kill()  # SIGKILL: no shutdown hooks run
        assert not proc.running
    with service(data, name="docqa-after") as proc:
        listed = ok(proc.url, op="list", owner="owner-r")["documents"]
        assert [d["id"] for d in listed] == [other["id"], doc["id"]]
        r = ask(proc.url, "owner-r", question)
        assert r["found"] and "15 books" in r["answer"] and r["citations"][0]["document_id"] == other["id"]
        r = ask(proc.url, "owner-r", "When does Velmora Rail pay a refund for a late train?")
        assert r["found"] and r["citations"][0]["document_id"] == doc["id"] and r["citations"][0]["page"] == 2
        # and it keeps working: a delete after the restart is durable too
        assert ok(proc.url, op="delete", owner="owner-r", document_id=doc["id"]) == {"deleted": doc["id"]}
        proc.kill()
    with service(data, name="docqa-again") as proc:
        assert [d["id"] for d in ok(proc.url, op="list", owner="owner-r")["documents"]] == [other["id"]]
