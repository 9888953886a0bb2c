"""Is a page's text layer worth reading? A PDF's text layer may be garbled (fonts without a
Unicode map: private-use code points, `(cid:12)`, replacement characters) or a poor OCR that a
scanner stored under the image (`T0TAL`, `1O4.5O`, `l2/O1`, stray `|`). Such a page is OCR'd
again; the result says which source each page was read from."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .words import Page

_BAD_CHAR = re.compile(r"[\ue000-\uf8ff\ufffd\x00-\x08\x0b-\x1f]|\(cid:\d+\)")
# a letter between digits or a digit between letters: OCR confusions (O/0, l/1, S/5, B/8)
_CONFUSED = re.compile(r"\d[OoIlSB]\d|[A-Za-z][0-9][A-Za-z]|\d[OoIl][.,]|[.,][OoIl]\d|^[Il]\d[.,/]")
_OK_PUNCT = set(".,:;/()'’\"-–%&€£$¥₹#*+@!?°_=<>[]")


@dataclass
class Quality:
    score: float  # 0 (unreadable) .. 1 (clean)
    reason: str
    tokens: int
    figures: float = 1.0  # the same over the tokens that carry digits (dates, amounts)

    @property
    def usable(self) -> bool:
        return self.score >= 0.85


def assess(page: Page) -> Quality:
    """Share of the page's tokens that read as clean text."""
    tokens = [t.text for ln in page.lines for t in ln.tokens]
    if not tokens:
        return Quality(0.0, "no text layer", 0)
    chars = sum(len(t) for t in tokens)
    bad_chars = sum(len(_BAD_CHAR.findall(t)) for t in tokens)
    if bad_chars / max(1, chars) > 0.02:
        return Quality(round(1 - bad_chars / chars, 3), "garbled text layer (characters without a Unicode map)",
                       len(tokens))
    junk = junk_figures = figures = 0
    for t in tokens:
        bad = False
        if _CONFUSED.search(t):
            bad = True
        elif len(t) == 1 and not t.isalnum() and t not in "&-+/€£$":
            bad = True  # stray marks (|, ~, ^) from an OCR of lines and specks
        elif any(unicodedata.category(ch)[0] not in "LNM" and ch not in _OK_PUNCT for ch in t):
            bad = True  # letters, digits and combining marks (Thai, Lao, Devanagari vowel signs) are text
        junk += bad
        if any(ch.isdigit() for ch in t):
            figures += 1
            junk_figures += bad
    score = 1 - junk / len(tokens)
    fig = round(1 - junk_figures / figures, 3) if figures else 1.0
    if score < 0.85:
        return Quality(round(score, 3), "text layer looks like a poor OCR", len(tokens), fig)
    return Quality(round(score, 3), "clean text layer", len(tokens), fig)
