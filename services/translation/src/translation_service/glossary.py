"""Glossary terms (and other spans that must not change) kept exactly as given.

A protected span is swapped for a placeholder the models copy through (`ZQ0ZQ`), translated,
and swapped back. If the model lost, repeated or mangled a placeholder, the sentence is
translated again in pieces around the spans, which are then put back verbatim: a term is never
translated, whatever the model does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kit_kserve.errors import InvalidInput

MAX_TERMS = 500
MAX_TERM_CHARS = 200
_PLACEHOLDER = "ZQ{}ZQ"
_FOUND = re.compile(r"ZQ\s?(\d+)\s?ZQ")


def parse_glossary(value) -> dict[str, str]:
    """`{"term": "rendering"}` or `["term", ...]` (kept as is) -> {term: rendering}."""
    if value is None or value == "":
        return {}
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):  # v2 parameters carry it as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, list):
        value = {term: term for term in value}
    if not isinstance(value, dict):
        raise InvalidInput("'glossary' must be an object {term: translation} or a list of terms",
                           code="invalid_glossary")
    if len(value) > MAX_TERMS:
        raise InvalidInput(f"'glossary' has {len(value)} terms; the limit is {MAX_TERMS}", code="invalid_glossary")
    out = {}
    for term, rendering in value.items():
        if not isinstance(term, str) or not isinstance(rendering, str) or not term.strip():
            raise InvalidInput("'glossary' terms and translations must be non-empty strings", code="invalid_glossary")
        if len(term) > MAX_TERM_CHARS or len(rendering) > MAX_TERM_CHARS:
            raise InvalidInput(f"'glossary' terms are limited to {MAX_TERM_CHARS} characters", code="invalid_glossary")
        out[term.strip()] = rendering
    return out


def term_pattern(terms: dict[str, str]) -> re.Pattern | None:
    """One regex for every term, longest first, matched on word boundaries where a term starts/ends
    with a word character."""
    if not terms:
        return None
    alts = []
    for term in sorted(terms, key=len, reverse=True):
        left = r"(?<!\w)" if re.match(r"\w", term) else ""
        right = r"(?!\w)" if re.search(r"\w$", term) else ""
        alts.append(f"{left}{re.escape(term)}{right}")
    return re.compile("|".join(alts))


@dataclass
class Protected:
    """A sentence with its spans replaced by placeholders, and how to undo it."""

    text: str
    spans: list[str]  # what each placeholder stands for in the output
    pieces: list[tuple[str, bool]]  # the original cut at the spans: (text, is_span)

    def restore(self, translated: str) -> str | None:
        """The translation with the spans put back, or None when placeholders did not survive."""
        found = [int(m.group(1)) for m in _FOUND.finditer(translated)]
        if sorted(found) != list(range(len(self.spans))):
            return None
        return _FOUND.sub(lambda m: self.spans[int(m.group(1))], translated)


def protect(sentence: str, pattern: re.Pattern | None, renderings: dict[str, str],
            fixed: re.Pattern | None = None) -> Protected | None:
    """Placeholders for glossary terms (rendered as given) and `fixed` spans (kept as they are);
    None when the sentence has neither."""
    matches = []
    for pat, is_term in ((pattern, True), (fixed, False)):
        if pat is None:
            continue
        for m in pat.finditer(sentence):
            matches.append((m.start(), m.end(), renderings[m.group(0)] if is_term else m.group(0)))
    if not matches:
        return None
    matches.sort()
    text, spans, pieces, pos = [], [], [], 0
    for start, end, rendering in matches:
        if start < pos:  # overlapping: the first wins
            continue
        text.append(sentence[pos:start])
        pieces.append((sentence[pos:start], False))
        text.append(_PLACEHOLDER.format(len(spans)))
        pieces.append((rendering, True))
        spans.append(rendering)
        pos = end
    text.append(sentence[pos:])
    pieces.append((sentence[pos:], False))
    return Protected("".join(text), spans, [p for p in pieces if p[0]])
