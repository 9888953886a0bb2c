"""Text cut into what a model translates: lines with their structure, sentences, bounded pieces.

A text is kept line by line: line breaks, blank lines (paragraphs), indentation and list
markers (`- `, `* `, `1. `, `a) `, `• `) stay as they are and only the words between them are
translated; each line is split into sentences (pysbd, per language), and a sentence longer than
the model's input limit is cut at clause marks, then at spaces, into pieces translated alone and
joined again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

# leading structure of a line: indentation, then a list marker or a Markdown heading/quote mark
_PREFIX = re.compile(r"^(\s*(?:(?:[-*+•·▪–]|\d{1,3}[.)]|[a-zA-Z][.)]|#{1,6}|>+)\s+)*)")
_TRAILING = re.compile(r"\s*$")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass
class Line:
    """One line: the untouched `prefix` and `suffix` around the translatable `body`."""

    prefix: str
    body: str
    suffix: str


def split_lines(text: str) -> list[tuple[Line, str]]:
    """Each line with the line break that ended it (`\\n`, `\\r\\n` or `` for the last)."""
    out = []
    parts = re.split(r"(\r\n|\n|\r)", text)
    for i in range(0, len(parts), 2):
        raw = parts[i]
        brk = parts[i + 1] if i + 1 < len(parts) else ""
        prefix = _PREFIX.match(raw).group(1)
        rest = raw[len(prefix):]
        suffix = _TRAILING.search(rest).group(0)
        body = rest[: len(rest) - len(suffix)] if suffix else rest
        out.append((Line(prefix, body, suffix), brk))
    return out


def translatable(text: str) -> bool:
    """Whether there is anything a model should see: a letter (numbers, amounts, dates and
    punctuation alone stay as they are)."""
    return bool(_LETTER.search(text))


@lru_cache(maxsize=32)
def _segmenter(lang: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=lang if lang in LANGUAGE_CODES else "en", clean=False, char_span=False)


def sentences(text: str, lang: str) -> list[tuple[str, str]]:
    """(sentence, the whitespace after it) pairs whose concatenation is `text`."""
    parts = [p for p in _segmenter(lang).segment(text) if p]
    out: list[tuple[str, str]] = []
    pos = 0
    for part in parts:
        stripped = part.strip()
        if not stripped:
            continue
        start = text.find(stripped, pos)
        if start < 0:  # the segmenter changed the text: keep it whole
            return [(text.strip(), "")]
        if out and start > pos:
            out[-1] = (out[-1][0], text[pos:start])
        elif start > pos:
            out.append(("", text[pos:start]))
        out.append((stripped, ""))
        pos = start + len(stripped)
    if out:
        out[-1] = (out[-1][0], out[-1][1] + text[pos:])
    return out or [("", text)]


def split_long(sentence: str, count_tokens, limit: int) -> list[str]:
    """`sentence` cut into pieces of at most `limit` tokens: at clause marks, then at spaces,
    then (a single huge word) by characters."""
    if count_tokens(sentence) <= limit:
        return [sentence]
    for splitter in (_CLAUSE, re.compile(r"\s+")):
        units = [u for u in splitter.split(sentence) if u]
        if len(units) > 1:
            return _pack(units, count_tokens, limit)
    half = max(1, len(sentence) // 2)
    return split_long(sentence[:half], count_tokens, limit) + split_long(sentence[half:], count_tokens, limit)


def _pack(units: list[str], count_tokens, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}" if current else unit
        if current and count_tokens(candidate) > limit:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pieces.append(current)
    out: list[str] = []
    for piece in pieces:  # a unit that alone is over the limit is split further
        out.extend(split_long(piece, count_tokens, limit) if count_tokens(piece) > limit and " " in piece.strip()
                   else _by_chars(piece, count_tokens, limit))
    return out


def _by_chars(piece: str, count_tokens, limit: int) -> list[str]:
    if count_tokens(piece) <= limit or len(piece) < 2:
        return [piece]
    half = len(piece) // 2
    return _by_chars(piece[:half], count_tokens, limit) + _by_chars(piece[half:], count_tokens, limit)
