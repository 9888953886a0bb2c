"""Small constructed pages for layout tests: words placed at given x positions, one line each."""

from __future__ import annotations

from vlm_service.words import Page, Token, group_lines

CHAR_W = 5.0
LINE_H = 10.0
PITCH = 14.0


class R(str):
    """A cell right-aligned at its x (amount columns)."""


def tokens_of(x: float, text: str, top: float, right: bool = False) -> list[Token]:
    width = CHAR_W * len(text)
    x0 = x - width if right else x
    out, pos = [], 0
    for word in text.split(" "):
        if word:
            a = x0 + CHAR_W * pos
            out.append(Token(word, a, a + CHAR_W * len(word), top, top + LINE_H, seg=-1))
        pos += len(word) + 1
    return out


def make_page(rows: list[list[tuple[float, str]]], number: int = 1, top: float = 40.0) -> Page:
    """`rows`: per printed line, (x, text) cells; a cell whose text is an `R` is right-aligned at x.
    An empty list leaves a blank line."""
    toks = []
    y = top
    for cells in rows:
        for x, text in cells:
            toks.extend(tokens_of(x, str(text), y, isinstance(text, R)))
        y += PITCH
    return Page(number, group_lines(toks, number), "text", 595.0, 842.0)
