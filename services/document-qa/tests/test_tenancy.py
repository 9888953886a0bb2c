"""Owner isolation and deletion: one owner never lists, gets, retrieves or deletes another's
documents; a deleted document is gone from the list, BM25 and the vector index."""

from __future__ import annotations

from conftest import ask, call, ingest, ok

ALICE, BOB = "key-alice", "key-bob"
SECRET = "The vault combination for the Eastgate depot is 4417 and it changes every Monday."


def test_owners_are_isolated(server):
    doc = ingest(server.url, ALICE, "vault.txt", SECRET.encode(), "text/plain")
    question = "What is the vault combination for the Eastgate depot?"
    mine = ask(server.url, ALICE, question)
    assert mine["found"] and "4417" in mine["answer"] and mine["citations"][0]["document_id"] == doc["id"]

    assert ok(server.url, op="list", owner=BOB)["documents"] == []
    theirs = ask(server.url, BOB, question)
    assert theirs["found"] is False and theirs["citations"] == [] and theirs["answer"] is None
    for instance in ({"op": "get"}, {"op": "delete"}):
        r = call(server.url, owner=BOB, document_id=doc["id"], **instance)
        assert r.status_code == 404 and r.json()["code"] == "document_not_found"
    r = call(server.url, op="ask", owner=BOB, question=question, document_ids=[doc["id"]])
    assert r.status_code == 404  # naming another owner's document finds nothing either
    # Bob's own identical text stays separate from Alice's
    bobs = ingest(server.url, BOB, "vault.txt", SECRET.encode(), "text/plain")
    assert {c["document_id"] for c in ask(server.url, BOB, question)["citations"]} == {bobs["id"]}
    assert {c["document_id"] for c in ask(server.url, ALICE, question)["citations"]} == {doc["id"]}
    # and Alice's document survived Bob's attempts
    assert ok(server.url, op="get", owner=ALICE, document_id=doc["id"])["document"]["id"] == doc["id"]


def test_delete_removes_from_every_index(server):
    owner = "key-deleter"
    keep = ingest(server.url, owner, "keep.md", b"# Ferries\n\nThe ferry to Lindholm leaves at 7:10 daily.", "")
    gone = ingest(server.url, owner, "gone.html",
                  b"<p>The zeppelin hangar at Ravensworth is painted ochre and holds three airships.</p>", "text/html")
    question = "What colour is the zeppelin hangar at Ravensworth?"
    before = ask(server.url, owner, question)
    assert before["found"] and before["citations"][0]["document_id"] == gone["id"]

    assert ok(server.url, op="delete", owner=owner, document_id=gone["id"]) == {"deleted": gone["id"]}
    assert [d["id"] for d in ok(server.url, op="list", owner=owner)["documents"]] == [keep["id"]]
    assert call(server.url, op="get", owner=owner, document_id=gone["id"]).status_code == 404
    assert call(server.url, op="delete", owner=owner, document_id=gone["id"]).status_code == 404
    after = ask(server.url, owner, question, top_k=50)
    assert gone["id"] not in {c["document_id"] for c in after["citations"]}
    # an exact keyword query (BM25's strength) finds nothing of it either
    after = ask(server.url, owner, "zeppelin hangar Ravensworth ochre airships", top_k=50)
    assert gone["id"] not in {c["document_id"] for c in after["citations"]}
    assert ask(server.url, owner, "When does the ferry to Lindholm leave?")["citations"][0]["document_id"] == keep["id"]
