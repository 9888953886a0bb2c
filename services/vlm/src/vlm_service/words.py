"""Positioned text shared by the stages: tokens (words), lines and pages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Token:
    """One word with its box in page units (top-down y). `seg` numbers the runs of a line
    separated by wide gaps (table cells); `score` is the OCR confidence (1.0 for a text layer)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    seg: int = 0
    score: float = 1.0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Line:
    """Tokens sharing a baseline, left to right."""

    tokens: list[Token]
    page: int

    @property
    def top(self) -> float:
        return min(t.top for t in self.tokens)

    @property
    def bottom(self) -> float:
        return max(t.bottom for t in self.tokens)

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


@dataclass
class Page:
    """One page's lines and where they came from (`text` layer or `ocr`)."""

    number: int
    lines: list[Line] = field(default_factory=list)
    source: str = "text"
    width: float = 0.0
    height: float = 0.0
    image: object | None = None  # PIL image of a scanned page, kept for the VLM

    @property
    def line_height(self) -> float:
        hs = sorted(t.height for ln in self.lines for t in ln.tokens)
        return hs[len(hs) // 2] if hs else 10.0


def group_lines(tokens: list[Token], page: int, gap_factor: float = 0.9) -> list[Line]:
    """Cluster tokens into lines by vertical centre, sort each line, number its segments.

    On input `seg` is the token's source box (OCR) or -1 (text layer); a new segment starts at
    a gap wider than `gap_factor` line heights or at a new OCR box."""
    if not tokens:
        return []
    hs = sorted(t.height for t in tokens)
    h = max(hs[len(hs) // 2], 1e-6)
    rows: list[list[Token]] = []
    centres: list[float] = []
    for tok in sorted(tokens, key=lambda t: t.cy):
        if rows and abs(tok.cy - centres[-1]) < 0.5 * h:
            rows[-1].append(tok)
            n = len(rows[-1])
            centres[-1] += (tok.cy - centres[-1]) / n
        else:
            rows.append([tok])
            centres.append(tok.cy)
    lines = []
    for row in rows:
        row.sort(key=lambda t: t.x0)
        seg, prev_src, prev_x1 = 0, None, None
        for tok in row:
            src = tok.seg
            if prev_x1 is not None:
                gap = tok.x0 - prev_x1
                if gap > gap_factor * h or (src >= 0 and src != prev_src and gap > 0.2 * h):
                    seg += 1
            prev_src, prev_x1 = src, tok.x1
            tok.seg = seg
        lines.append(Line(row, page))
    return lines
