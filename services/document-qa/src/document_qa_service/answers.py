"""Answers from retrieved passages: the sentence that answers (extractive), or a causal LM's text
over the passages (generative); both with citations. Nothing found gives no answer."""

from __future__ import annotations

import re
import threading
from typing import Iterator

import numpy as np

from kit.logging import get_logger

from .chunking import sentence_spans
from .encoders import Embedder
from .retrieval import Passage

logger = get_logger(__name__)

EXTRACT_FROM = 3  # passages whose sentences compete for the answer


def citations(passages: list[Passage], docs: dict[str, dict]) -> list[dict]:
    return [{"document_id": p.chunk.document_id, "filename": docs.get(p.chunk.document_id, {}).get("filename", ""),
             "page": p.chunk.page, "start": p.chunk.start, "end": p.chunk.end, "text": p.chunk.text,
             "score": p.score} for p in passages]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 2}


def best_sentence(question: str, qvec: np.ndarray, passages: list[Passage], embedder: Embedder) -> tuple[int, int, int]:
    """(passage index, start, end in page offsets) of the sentence of the top passages closest to
    the question: cosine similarity, a small bonus for shared words and for the passage's rank, a
    penalty for fragments under five words (headings, titles), which name a topic but answer nothing."""
    cands: list[tuple[int, int, int, str]] = []
    for i, p in enumerate(passages[:EXTRACT_FROM]):
        for s in sentence_spans(p.chunk.text):
            cands.append((i, p.chunk.start + s.start, p.chunk.start + s.end, p.chunk.text[s.start:s.end]))
    if not cands:
        return 0, passages[0].chunk.start, passages[0].chunk.end
    vecs = embedder.encode([c[3] for c in cands])
    qwords = _words(question)
    best, best_score = 0, -1e9
    for j, (i, _, _, text) in enumerate(cands):
        overlap = len(qwords & _words(text)) / max(1, len(qwords))
        score = float(np.dot(vecs[j], qvec)) + 0.15 * overlap - 0.03 * i
        if len(text.split()) < 5:
            score -= 0.3
        if score > best_score:
            best, best_score = j, score
    i, start, end, _ = cands[best]
    return i, start, end


def extractive(question: str, qvec: np.ndarray, passages: list[Passage], docs: dict[str, dict],
               embedder: Embedder) -> dict:
    if not passages:
        return not_found("extractive")
    cites = citations(passages, docs)
    i, start, end = best_sentence(question, qvec, passages, embedder)
    chunk = passages[i].chunk
    cites[i]["answer_start"], cites[i]["answer_end"] = start, end
    return {"found": True, "answer": chunk.text[start - chunk.start:end - chunk.start], "mode": "extractive",
            "citations": cites}


def not_found(mode: str) -> dict:
    return {"found": False, "answer": None, "mode": mode, "citations": []}


def prompt_messages(question: str, passages: list[Passage], docs: dict[str, dict]) -> list[dict]:
    context = "\n\n".join(f"[{n}] {docs.get(p.chunk.document_id, {}).get('filename', '')}, page {p.chunk.page}:\n"
                          f"{p.chunk.text}" for n, p in enumerate(passages, start=1))
    system = ("Answer the question using only the numbered passages. Cite passages as [n]. If they do not "
              "contain the answer, say that the documents do not say.")
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Passages:\n{context}\n\nQuestion: {question}"}]


class Generator:
    """A causal LM (transformers) that streams its answer token by token."""

    def __init__(self, path: str, device: str = "cpu", max_new_tokens: int = 200):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        dtype = torch.float16 if device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype).to(device)
        self.model.eval()
        self.device = device
        self.max_new_tokens = max_new_tokens
        limit = getattr(self.model.config, "max_position_embeddings", None) or 2048
        self.max_input = max(16, limit - max_new_tokens)

    def prompt(self, messages: list[dict]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"

    def stream(self, messages: list[dict], stop: threading.Event | None = None) -> Iterator[str]:
        """The answer's text pieces as they are generated; once `stop` is set (the client left)
        the generation ends before its next token."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        torch = self.torch

        class UntilStopped(StoppingCriteria):
            tokens = 0

            def __call__(self, input_ids, scores, **kwargs):
                self.tokens += 1
                done = stop is not None and stop.is_set()
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        enc = self.tokenizer(self.prompt(messages), return_tensors="pt", add_special_tokens=False)
        ids = enc["input_ids"][:, -self.max_input:].to(self.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        until = UntilStopped()
        kwargs = dict(input_ids=ids, attention_mask=self.torch.ones_like(ids), max_new_tokens=self.max_new_tokens,
                      do_sample=False, streamer=streamer, pad_token_id=pad,
                      stopping_criteria=StoppingCriteriaList([until]))
        errors: list[BaseException] = []

        def run():
            try:
                with self.torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                streamer.end()
            if stop is not None and stop.is_set():
                logger.info("generation stopped after %d of at most %d new tokens: the client left",
                            until.tokens, self.max_new_tokens)

        thread = threading.Thread(target=run, name="generate", daemon=True)
        thread.start()
        for piece in streamer:
            if piece:
                yield piece
        thread.join()
        if errors:
            raise errors[0]
