"""The document-qa operations on the store and models, without HTTP (the KServe model, the
streaming route and the benchmark all use this)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Iterator

from kit import gpu
from kit.logging import get_logger
from kit_kserve.cancellation import raise_if_cancelled
from kit_kserve.errors import InvalidInput, PayloadTooLarge
from kit_kserve.payload import decode_b64

from . import answers
from .chunking import chunk_pages
from .encoders import Embedder, Reranker, resolve_model_dir, set_torch_threads
from .errors import DocumentNotFound
from .extract import extract
from .retrieval import Retriever
from .schemas import Ask, DeleteDocument, Embed, GetDocument, Ingest, ListDocuments
from .settings import Settings
from .store import Store

logger = get_logger(__name__)

PUBLIC_FIELDS = ("id", "filename", "content_type", "bytes", "pages", "chunks", "characters", "created_at")


def public(doc: dict) -> dict:
    """A stored document as the API shows it."""
    out = {k: doc[k] for k in PUBLIC_FIELDS}
    out["sources"] = {"text": doc["text_pages"], "ocr": doc["ocr_pages"]}
    return out


class Engine:
    def __init__(self, settings: Settings):
        self.settings = settings
        # the platform's start-up GPU check (kit.gpu): auto picks cuda only where torch can use it,
        # an explicit cuda that cannot be served raises GPUCheckFailed (exit 78 in __main__)
        device = gpu.startup_check("DOCQA", settings.device, settings.max_memory_gb, frameworks=("torch",)).device
        if device == "cuda":
            gpu.apply_memory_cap(settings.max_memory_gb)
        threads = set_torch_threads(settings.torch_threads, settings.max_concurrency)
        logger.info("torch: %d CPU threads per operation, %d operations at once", threads, settings.max_concurrency)
        self.embedder = Embedder(resolve_model_dir(settings.embed_model, "DOCQA_EMBED_MODEL"), device)
        self.reranker = Reranker(resolve_model_dir(settings.rerank_model, "DOCQA_RERANK_MODEL"), device) \
            if settings.rerank_model else None
        self.generator = answers.Generator(resolve_model_dir(settings.llm_model, "DOCQA_LLM_MODEL"), device,
                                           settings.max_new_tokens) if settings.llm_model else None
        self.store = Store(settings.data_dir, settings.chroma_url, settings.collection, settings.hnsw_ef_search)
        self.store.sync()
        self.retriever = Retriever(self.store, self.embedder, self.reranker, settings.candidates, settings.rrf_k)

    @property
    def mode(self) -> str:
        return "generative" if self.generator is not None else "extractive"

    # -- documents -------------------------------------------------------------------------
    def ingest(self, op: Ingest) -> dict:
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        raw = op.data.get("b64", "") if isinstance(op.data, dict) else op.data
        if isinstance(raw, str) and len(raw) * 3 // 4 > limit + 3:
            raise PayloadTooLarge(f"the document is over the {self.settings.max_file_mb:g} MB limit", code="file_too_large")
        data = decode_b64(op.data, "data") if raw else b""
        if not data:
            raise InvalidInput("the document is empty", code="empty_document")
        if len(data) > limit:
            raise PayloadTooLarge(f"the document is over the {self.settings.max_file_mb:g} MB limit", code="file_too_large")
        kind, pages = extract(data, op.content_type, op.filename, max_pages=self.settings.max_pages,
                              ocr_min_chars=self.settings.ocr_min_chars, ocr_dpi=self.settings.ocr_dpi)
        raise_if_cancelled()
        chunks = chunk_pages(pages, self.embedder.count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap)
        vectors = self.embedder.encode([c.text for c in chunks])
        raise_if_cancelled()
        doc = {"id": uuid.uuid4().hex, "owner": op.owner, "filename": op.filename,
               "content_type": op.content_type or kind, "kind": kind, "bytes": len(data), "pages": len(pages),
               "chunks": len(chunks), "characters": sum(len(p.text) for p in pages),
               "text_pages": sum(1 for p in pages if p.text and p.source == "text"),
               "ocr_pages": sum(1 for p in pages if p.source == "ocr"),
               "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        self.store.add_document(doc, chunks, vectors)
        logger.info("ingested %s: %s, %d pages (%d OCR), %d chunks", doc["id"], kind, doc["pages"],
                    doc["ocr_pages"], doc["chunks"])
        return {"document": public(doc)}

    def list(self, op: ListDocuments) -> dict:
        self.store.refresh(op.owner)
        return {"documents": [public(d) for d in self.store.list_documents(op.owner)]}

    def get(self, op: GetDocument) -> dict:
        self.store.refresh(op.owner)
        doc = self.store.get_document(op.owner, op.document_id)
        if doc is None:
            raise DocumentNotFound(op.document_id)
        return {"document": public(doc)}

    def delete(self, op: DeleteDocument) -> dict:
        self.store.refresh(op.owner)
        if not self.store.delete_document(op.owner, op.document_id):
            raise DocumentNotFound(op.document_id)
        logger.info("deleted %s", op.document_id)
        return {"deleted": op.document_id}

    # -- questions -------------------------------------------------------------------------
    def _retrieve(self, op: Ask):
        question = op.question.strip()
        if not question:
            raise InvalidInput("the question is empty", code="empty_question")
        if len(op.question) > self.settings.max_question_chars:
            raise InvalidInput(f"the question has {len(op.question)} characters; the limit is "
                               f"{self.settings.max_question_chars}", code="question_too_long")
        self.store.refresh(op.owner)  # another pod's ingests and deletes (a shared Chroma server)
        ids = list(dict.fromkeys(op.document_ids)) if op.document_ids else None
        if ids:
            missing = set(ids) - self.store.existing_ids(op.owner, ids)
            if missing:
                raise DocumentNotFound(sorted(missing)[0])
        passages, qvec = self.retriever.search(op.owner, question, op.top_k, self.settings.min_score, ids)
        docs = {d: self.store.get_document(op.owner, d) or {} for d in {p.chunk.document_id for p in passages}}
        return question, passages, qvec, docs

    def ask(self, op: Ask) -> dict:
        """The whole answer at once (the generative one too)."""
        result: dict = {}
        for event, data in self.ask_stream(op):
            if event == "answer":
                result = data
        return result

    def ask_stream(self, op: Ask, stop: threading.Event | None = None) -> Iterator[tuple[str, dict]]:
        """("token", {"text"}) per generated piece, then ("answer", result); setting `stop`
        (the streaming client left) ends the generation before its next token."""
        question, passages, qvec, docs = self._retrieve(op)
        if not passages:
            yield "answer", answers.not_found(self.mode)
            return
        if self.generator is None:
            yield "answer", answers.extractive(question, qvec, passages, docs, self.embedder)
            return
        pieces = []
        for piece in self.generator.stream(answers.prompt_messages(question, passages, docs), stop):
            raise_if_cancelled()
            pieces.append(piece)
            yield "token", {"text": piece}
        yield "answer", {"found": True, "answer": "".join(pieces).strip(), "mode": "generative",
                         "citations": answers.citations(passages, docs)}

    def embed(self, op: Embed) -> dict:
        counts = self.embedder.count_tokens(op.input)
        vectors = self.embedder.encode(op.input)
        return {"model": self.embedder.name, "embeddings": vectors.tolist(), "tokens": int(sum(counts))}

    def run(self, op) -> dict:
        return getattr(self, op.op)(op)

    def close(self) -> None:
        self.store.close()
