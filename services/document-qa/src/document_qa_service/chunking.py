"""Sentences with character offsets, and token-bounded chunks of whole sentences with overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .extract import Page

# a sentence ends at . ! ? (and closing quotes/brackets) before whitespace, or at a blank line,
# or at a line break after a line without end punctuation that is followed by a capitalised line
# that is short (headings, list items)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|a\.m|p\.m|etc|vs|Mr|Mrs|Ms|Dr|Prof|St|No|Fig|approx|Inc|Ltd|Co)\.|\b[A-Z]\.)$")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one page: `text == page.text[start:end]`."""

    page: int
    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[Span]:
    """Offsets of the sentences of `text` (stripped, never empty)."""
    spans: list[Span] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        if _ABBREV.search(text[max(0, end - 8):end]) and "\n\n" not in m.group(0):
            continue  # "e.g. ", "Dr. " end no sentence
        _add(text, pos, end, spans)
        pos = m.end()
    _add(text, pos, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[Span]) -> None:
    seg = text[start:end]
    stripped = seg.strip()
    if stripped:
        lead = len(seg) - len(seg.lstrip())
        spans.append(Span(start + lead, start + lead + len(stripped)))


def _split_long(text: str, span: Span, n_tokens: int, limit: int) -> list[tuple[Span, int]]:
    """A sentence over `limit` tokens, cut at spaces into pieces of about `limit` tokens."""
    pieces = -(-n_tokens // limit)
    length = span.end - span.start
    out, start = [], span.start
    for i in range(1, pieces + 1):
        end = span.end if i == pieces else text.rfind(" ", start + 1, span.start + length * i // pieces) + 1 or \
            span.start + length * i // pieces
        end = max(end, start + 1)
        seg = Span(start, end)
        out.append((seg, max(1, n_tokens * (end - start) // length)))
        start = end
        if start >= span.end:
            break
    return out


def chunk_pages(pages: Sequence[Page], count_tokens: Callable[[list[str]], list[int]], max_tokens: int = 200,
                overlap: int = 40) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens made of whole sentences (a longer sentence is cut at
    spaces); each chunk repeats the previous chunk's last sentences, up to `overlap` tokens.
    Chunks never span pages, so each has one page number."""
    chunks: list[Chunk] = []
    for page in pages:
        spans = sentence_spans(page.text)
        if not spans:
            continue
        counts = count_tokens([page.text[s.start:s.end] for s in spans])
        units: list[tuple[Span, int]] = []
        for span, n in zip(spans, counts):
            units.extend(_split_long(page.text, span, n, max_tokens) if n > max_tokens else [(span, n)])
        i = 0
        while i < len(units):
            j, total = i, 0
            while j < len(units) and (j == i or total + units[j][1] <= max_tokens):
                total += units[j][1]
                j += 1
            start, end = units[i][0].start, units[j - 1][0].end
            chunks.append(Chunk(page.number, start, end, page.text[start:end]))
            if j >= len(units):
                break
            # the next chunk starts with the last sentences of this one, up to `overlap` tokens
            k, back = j, 0
            while k - 1 > i and back + units[k - 1][1] <= overlap:
                k -= 1
                back += units[k][1]
            i = k
    return chunks
