"""Hybrid retrieval: BM25 (SQLite FTS5) and dense vectors (Chroma) fused by reciprocal rank,
optionally re-ranked by a cross-encoder; every passage scored by its cosine similarity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .encoders import Embedder, Reranker
from .store import StoredChunk, Store


@dataclass
class Passage:
    chunk: StoredChunk
    score: float  # cosine similarity to the question
    fused: float  # reciprocal rank fusion score (or the re-ranker's)


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), best first."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, reranker: Reranker | None = None, candidates: int = 50,
                 rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(self, owner: str, question: str, top_k: int, min_score: float,
               document_ids: Sequence[str] | None = None) -> tuple[list[Passage], np.ndarray]:
        """The owner's `top_k` best passages scoring at least `min_score`, and the question's vector."""
        qvec = self.embedder.encode([question])[0]
        n = max(self.candidates, top_k)
        dense = self.store.dense(owner, qvec, n, document_ids)
        sparse = self.store.bm25(owner, question, n, document_ids)
        fused = rrf([[c for c, _ in dense], [c for c, _ in sparse]], self.rrf_k)
        chunks = self.store.chunks(owner, [c for c, _ in fused])
        fused = [(c, s) for c, s in fused if c in chunks]
        cosine = dict(dense)
        missing = [c for c, _ in fused if c not in cosine]
        for cid, vec in self.store.vectors(missing).items():
            cosine[cid] = float(np.dot(vec, qvec))
        passages = [Passage(chunks[c], round(cosine.get(c, 0.0), 4), s) for c, s in fused]
        passages = [p for p in passages if p.score >= min_score]
        if self.reranker is not None and passages:
            pool = passages[: max(top_k * 4, 20)]
            for p, s in zip(pool, self.reranker.scores(question, [p.chunk.text for p in pool])):
                p.fused = s
            passages = sorted(pool, key=lambda p: -p.fused)
        return passages[:top_k], qvec
