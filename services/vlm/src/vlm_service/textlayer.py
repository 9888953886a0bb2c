"""Stage 1: words with positions from a PDF's text layer (pdfium)."""

from __future__ import annotations

import ctypes

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from .pdfium_lock import PDFIUM
from .words import Line, Token, group_lines

_SPACES = {0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x2002, 0x2003, 0x2009, 0x202F, 0xFFFE}


def page_words(page: pdfium.PdfPage) -> tuple[list[Token], float, float]:
    """The page's words (top-down coordinates in points), its width and height."""
    with PDFIUM:  # PDFium is not thread-safe (see pdfium_lock)
        return _page_words(page)


def _page_words(page: pdfium.PdfPage) -> tuple[list[Token], float, float]:
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        n = raw.FPDFText_CountChars(tp)
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        rect = raw.FS_RECTF()
        words: list[Token] = []
        chars: list[str] = []
        box = None  # x0, x1, top, bottom of the current word
        for i in range(n):
            code = raw.FPDFText_GetUnicode(tp, i)
            if code in _SPACES or code == 0 or raw.FPDFText_IsGenerated(tp, i) == 1:
                if chars:
                    words.append(Token("".join(chars), *box, seg=-1))
                    chars, box = [], None
                continue
            if not raw.FPDFText_GetLooseCharBox(tp, i, rect):
                continue
            x0, x1, t, b = rect.left, rect.right, height - rect.top, height - rect.bottom
            if box is not None:
                h = box[3] - box[2]
                if abs((t + b) / 2 - (box[2] + box[3]) / 2) > 0.4 * h or x0 - box[1] > 0.15 * h or x0 < box[0]:
                    words.append(Token("".join(chars), *box, seg=-1))
                    chars, box = [], None
            chars.append(chr(code))
            box = (x0, x1, t, b) if box is None else (box[0], max(box[1], x1), min(box[2], t), max(box[3], b))
        if chars:
            words.append(Token("".join(chars), *box, seg=-1))
        return words, width, height
    finally:
        textpage.close()


def page_lines(page: pdfium.PdfPage, number: int) -> tuple[list[Line], float, float]:
    """The page's text lines; empty when the page has no text layer."""
    words, width, height = page_words(page)
    return group_lines(words, number), width, height


def has_usable_text(lines: list[Line]) -> bool:
    """A text layer is usable when it holds a reasonable amount of real words."""
    alnum = sum(sum(ch.isalnum() for ch in t.text) for ln in lines for t in ln.tokens)
    return alnum >= 20
