"""Documents, chunks and both indexes, every query filtered by owner.

- Chroma is the system of record: each owner's chunks (vector, text, document id, page, offsets)
  are in the owner's own collection `<name>-<sha256(owner)[:40]>`, so a dense query never reaches
  another owner's vectors and needs no metadata filter (a filter over all chunks cost 20 ms of
  CPU per query at 10,000 chunks); `<name>_documents` holds one record per document. It is
  embedded (`chromadb.PersistentClient` under `data_dir`) or a `chroma run` server
  (`chromadb.HttpClient`), the same code either way.
- SQLite under `data_dir` holds the BM25 index (FTS5, ranked with bm25()) and the document and
  chunk rows queries join with. It is rebuilt from Chroma at start for documents it lacks (a
  new pod with an empty disk, in a cluster) and drops documents Chroma no longer has.

An ingest writes the chunks, then the document record (the commit point in Chroma), then commits
SQLite; a crash before the record leaves orphan chunks that no query returns (hits are joined with
SQLite) and `sync` deletes; after it, `sync` restores the SQLite rows.

Several pods on one Chroma server: every ingest and delete stores a fresh `revision` (uuid4) in the
owner's chunk collection's metadata; `refresh(owner)`, called before each operation that reads the
owner's SQLite rows, compares it with the revision this pod last saw and, when they differ, rebuilds
the owner's SQLite rows (documents, chunks, BM25) from Chroma. Embedded Chroma has one process and
skips it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

from kit.logging import get_logger

from .chunking import Chunk

logger = get_logger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, filename TEXT NOT NULL, content_type TEXT NOT NULL,
    kind TEXT NOT NULL, bytes INTEGER NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL,
    characters INTEGER NOT NULL, text_pages INTEGER NOT NULL, ocr_pages INTEGER NOT NULL,
    created_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_owner ON documents (owner, seq);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    owner TEXT NOT NULL, ord INTEGER NOT NULL, page INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, chunk_id UNINDEXED, owner UNINDEXED, document_id UNINDEXED, tokenize = 'porter unicode61');
"""

_UNSEEN = object()  # no revision cached for a collection yet

STOPWORDS = frozenset("""a an and are as at be by does did do for from has have how i in is it its of on or
that the this to was were what when where which who whom whose why will with you your""".split())


@dataclass
class StoredChunk:
    id: str
    document_id: str
    page: int
    start: int
    end: int
    text: str


def fts_query(question: str) -> str:
    """An FTS5 OR-query of the question's words (stop words dropped), each quoted."""
    words = [w for w in re.findall(r"\w+", question.lower()) if w not in STOPWORDS]
    words = list(dict.fromkeys(words))[:64]
    return " OR ".join(f'"{w}"' for w in words)


def chroma_client(url: str, path: str):
    """`chromadb.HttpClient` for an http(s) URL, else an embedded `PersistentClient` at `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        # chromadb's HTTP client logs every request at INFO through httpx: keep the service's log for its own lines
        logging.getLogger("httpx").setLevel(logging.WARNING)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"DOCQA_CHROMA_URL={url!r}: expected http(s)://host:port")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                   settings=settings)
    os.makedirs(path, exist_ok=True)
    return chromadb.PersistentClient(path=path, settings=settings)


class Store:
    """The documents of all owners; every method takes the owner and filters by it."""

    def __init__(self, data_dir: str, chroma_url: str = "", collection: str = "document_chunks",
                 ef_search: int = 128):
        os.makedirs(data_dir, exist_ok=True)
        self.db = sqlite3.connect(os.path.join(data_dir, "documents.sqlite3"), check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()
        self.client = chroma_client(chroma_url, os.path.join(data_dir, "chroma"))
        self.prefix = collection
        self.ef_search = ef_search
        self.remote = bool(chroma_url)  # a shared server: other pods write too
        self._revisions: dict[str, object] = {}  # chunk collection name -> the revision SQLite matches
        self._collections: dict[str, object] = {}
        self.documents = self.client.get_or_create_collection(
            f"{collection}_documents", embedding_function=None, metadata={"ai-platform": "document-qa documents"})
        self.batch = max(1, min(5000, self.client.get_max_batch_size()))
        logger.info("store: sqlite at %s, chroma %s (collection %s)", data_dir, chroma_url or "embedded",
                    collection)

    # -- collections -----------------------------------------------------------------------
    def collection_name(self, owner: str) -> str:
        return f"{self.prefix}-{hashlib.sha256(owner.encode()).hexdigest()[:40]}"

    def owner_collection(self, owner: str, create: bool = False):
        """The owner's chunk collection (None when it has none and `create` is false)."""
        col = self._collections.get(owner)
        if col is None:
            name = self.collection_name(owner)
            if create:
                col = self.client.get_or_create_collection(
                    name, embedding_function=None, metadata={"ai-platform": "document-qa chunks"},
                    configuration={"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": self.ef_search,
                                            "max_neighbors": 32}})
            else:
                try:
                    col = self.client.get_collection(name, embedding_function=None)
                except Exception:  # chromadb raises NotFoundError (or ValueError in older clients)
                    return None
            self._collections[owner] = col
        return col

    def chunk_collections(self) -> list:
        """Every owner's chunk collection."""
        out = []
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(self.prefix + "-"):
                out.append(self.client.get_collection(name, embedding_function=None))
        return out

    # -- revisions (several pods on one server) ---------------------------------------------
    def _fresh_collection(self, owner: str):
        """The owner's chunk collection as the server has it now (metadata included), or None."""
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(self.collection_name(owner), embedding_function=None)
        except (NotFoundError, ValueError):
            return None

    def _bump_revision(self, owner: str) -> None:
        """Store a fresh revision in the owner's collection after a write; keep it as this pod's when
        this pod had seen the one it replaces (else the next `refresh` rebuilds)."""
        if not self.remote:
            return
        col = self._fresh_collection(owner)
        if col is None:
            return
        name = self.collection_name(owner)
        metadata = dict(col.metadata or {})
        previous, revision = metadata.get("revision"), uuid.uuid4().hex
        col.modify(metadata={**metadata, "revision": revision})
        if self._revisions.get(name, _UNSEEN) == previous:
            self._revisions[name] = revision
        else:
            self._revisions.pop(name, None)

    def refresh(self, owner: str) -> bool:
        """Rebuild the owner's SQLite rows from Chroma when another pod wrote since this pod last
        looked (one collection read per call; a rebuild reads the owner's chunks). True if rebuilt."""
        if not self.remote:
            return False
        name = self.collection_name(owner)
        col = self._fresh_collection(owner)
        revision = (col.metadata or {}).get("revision") if col is not None else None
        if self._revisions.get(name, _UNSEEN) == revision:
            return False
        records = {}
        for got in self._all(self.documents, ["metadatas"], where={"owner": owner}):
            records.update(zip(got["ids"], got["metadatas"]))
        rows = []
        if col is not None:
            for got in self._all(col, ["metadatas", "documents"]):
                rows += [(cid, m, text) for cid, m, text in zip(got["ids"], got["metadatas"], got["documents"])
                         if m["document_id"] in records]  # chunks of an unfinished ingest wait for its record
        rows.sort(key=lambda r: (r[1]["document_id"], r[1]["ord"]))
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("DELETE FROM chunks_fts WHERE owner = ?", (owner,))
                self.db.execute("DELETE FROM chunks WHERE owner = ?", (owner,))
                self.db.execute("DELETE FROM documents WHERE owner = ?", (owner,))
                self._insert_rows(list(records.values()), rows)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self._revisions[name] = revision
        logger.info("store refresh: owner collection %s at a new revision, %d documents and %d chunks reloaded",
                    name, len(records), len(rows))
        return True

    def _insert_rows(self, docs: list[dict], rows: list[tuple[str, dict, str]]) -> None:
        """Insert document records and their chunks' rows (id, chunk metadata, text) into SQLite."""
        self.db.executemany(
            "INSERT INTO documents VALUES (:id, :owner, :filename, :content_type, :kind, :bytes, :pages, "
            ":chunks, :characters, :text_pages, :ocr_pages, :created_at, :seq)", docs)
        owners = {d["id"]: d["owner"] for d in docs}
        self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [(cid, m["document_id"], owners[m["document_id"]], m["ord"], m["page"], m["start"],
                              m["end"], t) for cid, m, t in rows])
        self.db.executemany("INSERT INTO chunks_fts (text, chunk_id, owner, document_id) VALUES (?, ?, ?, ?)",
                            [(t, cid, owners[m["document_id"]], m["document_id"]) for cid, m, t in rows])

    # -- documents -------------------------------------------------------------------------
    def add_document(self, doc: dict, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert a document, its chunks, their BM25 rows and vectors: all or nothing."""
        ids = [f"{doc['id']}:{i}" for i in range(len(chunks))]
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # the listing order: microseconds since the epoch, unique and increasing in this store
                last = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM documents").fetchone()[0]
                doc = {**doc, "seq": max(last + 1, time.time_ns() // 1000)}
                self.db.execute(
                    "INSERT INTO documents VALUES (:id, :owner, :filename, :content_type, :kind, :bytes, :pages, "
                    ":chunks, :characters, :text_pages, :ocr_pages, :created_at, :seq)", doc)
                rows = [(cid, doc["id"], doc["owner"], i, c.page, c.start, c.end, c.text)
                        for i, (cid, c) in enumerate(zip(ids, chunks))]
                self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self.db.executemany("INSERT INTO chunks_fts (text, chunk_id, owner, document_id) VALUES (?, ?, ?, ?)",
                                    [(c.text, cid, doc["owner"], doc["id"]) for cid, c in zip(ids, chunks)])
                self.add_vectors(doc["owner"], ids, vectors, [{"document_id": doc["id"], "page": c.page,
                                                 "start": c.start, "end": c.end, "ord": i}
                                                for i, c in enumerate(chunks)], [c.text for c in chunks])
                self.documents.add(ids=[doc["id"]], embeddings=[[1.0]], metadatas=[dict(doc)])
                self._bump_revision(doc["owner"])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                self._delete_vectors(doc["owner"], doc["id"])
                raise

    def add_vectors(self, owner: str, ids: list[str], vectors: np.ndarray, metadatas: list[dict],
                    texts: list[str]) -> None:
        col = self.owner_collection(owner, create=True)
        for i in range(0, len(ids), self.batch):
            col.add(ids=ids[i:i + self.batch], embeddings=vectors[i:i + self.batch],
                    metadatas=metadatas[i:i + self.batch], documents=texts[i:i + self.batch])

    def _delete_vectors(self, owner: str, document_id: str) -> None:
        try:
            self.documents.delete(ids=[document_id])
            col = self.owner_collection(owner)
            if col is not None:
                col.delete(where={"document_id": document_id})
        except Exception as exc:  # cleaning up after a failure: keep the first error
            logger.warning("could not delete the vectors of %s: %s", document_id, type(exc).__name__)

    def list_documents(self, owner: str) -> list[dict]:
        with self.lock:
            cur = self.db.execute("SELECT * FROM documents WHERE owner = ? ORDER BY seq DESC", (owner,))
            return [self._row(cur, r) for r in cur.fetchall()]

    def get_document(self, owner: str, document_id: str) -> dict | None:
        with self.lock:
            cur = self.db.execute("SELECT * FROM documents WHERE owner = ? AND id = ?", (owner, document_id))
            row = cur.fetchone()
            return self._row(cur, row) if row else None

    def existing_ids(self, owner: str, document_ids: Iterable[str]) -> set[str]:
        ids = list(document_ids)
        if not ids:
            return set()
        with self.lock:
            marks = ",".join("?" * len(ids))
            rows = self.db.execute(f"SELECT id FROM documents WHERE owner = ? AND id IN ({marks})", (owner, *ids))
            return {r[0] for r in rows}

    def delete_document(self, owner: str, document_id: str) -> bool:
        """Remove a document from SQLite, the BM25 index and Chroma; False when the owner has none."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                n = self.db.execute("DELETE FROM documents WHERE owner = ? AND id = ?", (owner, document_id)).rowcount
                if n:
                    self.db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                    self.db.execute("DELETE FROM chunks_fts WHERE document_id = ?", (document_id,))
                    self.documents.delete(ids=[document_id])  # first: without it the chunks are orphans
                    col = self.owner_collection(owner)
                    if col is not None:
                        col.delete(where={"document_id": document_id})
                    self._bump_revision(owner)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return bool(n)

    def _all(self, collection, include: list[str], where: dict | None = None, page: int = 5000):
        offset = 0
        while True:
            got = collection.get(include=include, where=where, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got
            offset += len(got["ids"])

    def sync(self) -> dict[str, int]:
        """Make SQLite match Chroma: restore documents it lacks (their chunks and BM25 rows), drop
        those Chroma no longer has, and delete chunks without a document record (a crash mid-ingest)."""
        # the revisions first: a write after this point changes them, and the next refresh catches it
        revisions = {col.name: (col.metadata or {}).get("revision") for col in self.chunk_collections()}
        records = {}
        for got in self._all(self.documents, ["metadatas"]):
            records.update(zip(got["ids"], got["metadatas"]))
        with self.lock:
            local = {r[0] for r in self.db.execute("SELECT id FROM documents")}
        restored = 0
        for document_id in sorted(set(records) - local, key=lambda d: records[d]["seq"]):
            rows = []
            col = self.owner_collection(records[document_id]["owner"], create=True)
            for got in self._all(col, ["metadatas", "documents"], where={"document_id": document_id}):
                rows += [(cid, m, text) for cid, m, text in zip(got["ids"], got["metadatas"], got["documents"])]
            rows.sort(key=lambda r: r[1]["ord"])
            doc = records[document_id]
            with self.lock:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    self._insert_rows([doc], rows)
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
            restored += 1
        dropped = 0
        for document_id in local - set(records):
            with self.lock:
                self.db.execute("DELETE FROM chunks_fts WHERE document_id = ?", (document_id,))
                self.db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
            dropped += 1
        orphans = 0
        for col in self.chunk_collections():
            chunk_docs: set[str] = set()
            for got in self._all(col, ["metadatas"]):
                chunk_docs.update(m["document_id"] for m in got["metadatas"])
            for document_id in chunk_docs - set(records):
                col.delete(where={"document_id": document_id})
                orphans += 1
        if self.remote:
            self._revisions.update(revisions)
        counts = {"restored": restored, "dropped": dropped, "orphans": orphans}
        if any(counts.values()):
            logger.info("store sync: %d documents restored from chroma, %d dropped, %d unfinished ingests removed",
                        restored, dropped, orphans)
        return counts

    @staticmethod
    def _row(cur, row) -> dict:
        return dict(zip([d[0] for d in cur.description], row))

    # -- search ----------------------------------------------------------------------------
    def dense(self, owner: str, vector: np.ndarray, n: int,
              document_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the owner's nearest chunks (in the owner's collection)."""
        col = self.owner_collection(owner)
        if col is None:
            return []
        where = {"document_id": {"$in": list(document_ids)}} if document_ids else None
        res = col.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]

    def bm25(self, owner: str, question: str, n: int,
             document_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) of the owner's best keyword matches."""
        query = fts_query(question)
        if not query:
            return []
        sql = "SELECT chunk_id, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? AND owner = ?"
        args: list = [query, owner]
        if document_ids:
            sql += f" AND document_id IN ({','.join('?' * len(document_ids))})"
            args.extend(document_ids)
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        args.append(n)
        with self.lock:
            return [(r[0], float(r[1])) for r in self.db.execute(sql, args)]

    def chunks(self, owner: str, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The owner's chunks by id (ids of other owners or deleted documents are left out)."""
        if not ids:
            return {}
        with self.lock:
            marks = ",".join("?" * len(ids))
            rows = self.db.execute(
                f'SELECT id, document_id, page, start, "end", text FROM chunks WHERE owner = ? AND id IN ({marks})',
                (owner, *ids)).fetchall()
        return {r[0]: StoredChunk(*r) for r in rows}

    def vectors(self, owner: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        col = self.owner_collection(owner)
        if not ids or col is None:
            return {}
        got = col.get(ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"])}

    def close(self) -> None:
        with self.lock:
            self.db.close()
