"""Documents, chunks and both indexes, every query filtered by owner.

- Chroma is the system of record: collection `<name>` holds each chunk (vector, text, owner,
  document id, page, offsets), `<name>_documents` one record per document (its metadata). It is
  embedded (`chromadb.PersistentClient` under `data_dir`) or a `chroma run` server
  (`chromadb.HttpClient`), the same code either way.
- SQLite under `data_dir` holds the BM25 index (FTS5, ranked with bm25()) and the document and
  chunk rows queries join with. It is rebuilt from Chroma at start for documents it lacks (a
  new pod with an empty disk, in a cluster) and drops documents Chroma no longer has.

An ingest writes the chunks, then the document record (the commit point in Chroma), then commits
SQLite; a crash before the record leaves orphan chunks that no query returns (hits are joined with
SQLite) and `sync` deletes; after it, `sync` restores the SQLite rows.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
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
        self.collection = self.client.get_or_create_collection(
            collection, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": ef_search,
                                    "max_neighbors": 32}},
            metadata={"ai-platform": "document-qa chunks"})
        self.documents = self.client.get_or_create_collection(
            f"{collection}_documents", embedding_function=None, metadata={"ai-platform": "document-qa documents"})
        self.batch = max(1, min(5000, self.client.get_max_batch_size()))
        logger.info("store: sqlite at %s, chroma %s (collection %s)", data_dir, chroma_url or "embedded",
                    collection)

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
                self.add_vectors(ids, vectors, [{"owner": doc["owner"], "document_id": doc["id"], "page": c.page,
                                                 "start": c.start, "end": c.end, "ord": i}
                                                for i, c in enumerate(chunks)], [c.text for c in chunks])
                self.documents.add(ids=[doc["id"]], embeddings=[[1.0]], metadatas=[dict(doc)])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                self._delete_vectors(doc["id"])
                raise

    def add_vectors(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict], texts: list[str]) -> None:
        for i in range(0, len(ids), self.batch):
            self.collection.add(ids=ids[i:i + self.batch], embeddings=vectors[i:i + self.batch],
                                metadatas=metadatas[i:i + self.batch], documents=texts[i:i + self.batch])

    def _delete_vectors(self, document_id: str) -> None:
        try:
            self.documents.delete(ids=[document_id])
            self.collection.delete(where={"document_id": document_id})
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
                    self.collection.delete(where={"$and": [{"owner": owner}, {"document_id": document_id}]})
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
        records = {}
        for got in self._all(self.documents, ["metadatas"]):
            records.update(zip(got["ids"], got["metadatas"]))
        with self.lock:
            local = {r[0] for r in self.db.execute("SELECT id FROM documents")}
        restored = 0
        for document_id in sorted(set(records) - local, key=lambda d: records[d]["seq"]):
            rows = []
            for got in self._all(self.collection, ["metadatas", "documents"], where={"document_id": document_id}):
                rows += [(cid, m, text) for cid, m, text in zip(got["ids"], got["metadatas"], got["documents"])]
            rows.sort(key=lambda r: r[1]["ord"])
            doc = records[document_id]
            with self.lock:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    self.db.execute(
                        "INSERT INTO documents VALUES (:id, :owner, :filename, :content_type, :kind, :bytes, :pages, "
                        ":chunks, :characters, :text_pages, :ocr_pages, :created_at, :seq)", doc)
                    self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                        [(cid, document_id, doc["owner"], m["ord"], m["page"], m["start"], m["end"], t)
                                         for cid, m, t in rows])
                    self.db.executemany("INSERT INTO chunks_fts (text, chunk_id, owner, document_id) VALUES (?, ?, ?, ?)",
                                        [(t, cid, doc["owner"], document_id) for cid, m, t in rows])
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
        chunk_docs: set[str] = set()
        for got in self._all(self.collection, ["metadatas"]):
            chunk_docs.update(m["document_id"] for m in got["metadatas"])
        orphans = chunk_docs - set(records)
        for document_id in orphans:
            self.collection.delete(where={"document_id": document_id})
        counts = {"restored": restored, "dropped": dropped, "orphans": len(orphans)}
        if any(counts.values()):
            logger.info("store sync: %d documents restored from chroma, %d dropped, %d unfinished ingests removed",
                        restored, dropped, len(orphans))
        return counts

    @staticmethod
    def _row(cur, row) -> dict:
        return dict(zip([d[0] for d in cur.description], row))

    # -- search ----------------------------------------------------------------------------
    @staticmethod
    def _where(owner: str, document_ids: Sequence[str] | None) -> dict:
        if document_ids:
            return {"$and": [{"owner": owner}, {"document_id": {"$in": list(document_ids)}}]}
        return {"owner": owner}

    def dense(self, owner: str, vector: np.ndarray, n: int,
              document_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the owner's nearest chunks."""
        res = self.collection.query(query_embeddings=[vector], n_results=n, where=self._where(owner, document_ids),
                                    include=["distances"])
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

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"])}

    def close(self) -> None:
        with self.lock:
            self.db.close()
