"""Stage 2: OCR of pages without a usable text layer (RapidOCR, PP-OCRv4 ONNX models shipped in
the `rapidocr-onnxruntime` wheel, so it runs offline).

Detection runs on a downscaled copy of the page, recognition on crops of the full-resolution
image, stretched horizontally so thin letters keep their own CTC time steps. The page skew, measured
from how the boxes line up in rows, is undone on the coordinates before lines are grouped, so a scan
turned by a degree still reads row by row; then the recogniser's usual slips are repaired per line."""

from __future__ import annotations

import math
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .normalize import DATE_START_RE, parse_money
from .words import Line, Token, group_lines

_engines: dict[str, object] = {}
_lock = threading.Lock()
# RapidOCR's detector sets `self.preprocess_op` per call before using it: two threads in one
# detector would resize each other's images. Detection is serialised; recognition (stateless
# per call; ONNX Runtime sessions are thread-safe) and all other work overlap.
_det_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads = 1
STRETCH = 1.3


def engine(threads: int | None = None, stretch: float | None = None):
    """The shared RapidOCR engines (created on first use): detection with `threads` ONNX Runtime
    threads; recognition single-threaded, run on `threads` crops at once (small inputs scale
    better across crops than within one)."""
    global _pool, _threads, STRETCH
    with _lock:
        if stretch:
            STRETCH = stretch
        if not _engines:
            from rapidocr_onnxruntime import RapidOCR

            _threads = threads or max(1, min(4, os.cpu_count() or 1))
            det = RapidOCR(use_cls=False, intra_op_num_threads=_threads, inter_op_num_threads=1)
            rec = RapidOCR(use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1)
            # Recognition pads crops to at least this width and to the widest crop of a batch;
            # table cells (dates, amounts) are short, so narrow single-crop batches cut the work.
            rec.text_rec.rec_image_shape = [3, 48, 48]
            rec.text_rec.rec_batch_num = 1
            _engines.update(det=det, rec=rec)
            _pool = ThreadPoolExecutor(_threads, thread_name_prefix="ocr-rec")
        return _engines["det"]


def _recognise(crops: list) -> list[tuple[str, float]]:
    """Text and score per crop, the crops spread over the recognition workers."""
    import cv2

    rec = _engines["rec"].text_rec
    if STRETCH != 1.0:  # more CTC time steps per glyph: thin letters (ti, rl, ll) are not merged
        crops = [cv2.resize(c, (max(1, round(c.shape[1] * STRETCH)), c.shape[0]), interpolation=cv2.INTER_LINEAR)
                 for c in crops]
    if _threads == 1 or len(crops) < 8:
        return rec(crops, False)[0]
    step = -(-len(crops) // _threads)
    chunks = [crops[i:i + step] for i in range(0, len(crops), step)]
    out: list = []
    for part in _pool.map(lambda c: rec(c, False)[0], chunks):
        out.extend(part)
    return out


def _det_scale(h: int, w: int, target: int) -> float:
    return min(1.0, target / max(h, w))


def ocr_boxes(image: np.ndarray, det_side: int = 1000) -> list[tuple[np.ndarray, str, float]]:
    """(quad in image pixels, text, score) for each text box of an RGB image."""
    import cv2

    eng = engine()
    h, w = image.shape[:2]
    scale = _det_scale(h, w, det_side)
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1 else image
    with _det_lock:
        boxes, _ = eng.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    boxes = eng.sorted_boxes(boxes)
    quads = [np.asarray(b, dtype=np.float32) / scale for b in boxes]
    crops = eng.get_crop_img_list(image, quads)
    rec = _recognise(crops)
    out = []
    for quad, (text, score) in zip(quads, rec):
        text = text.strip()
        if text and score >= 0.5:
            out.append((quad, text, float(score)))
    return out


def skew_angle(quads: list[np.ndarray], limit: float = 2.0, step: float = 0.05) -> float:
    """Page skew (radians, lines going down to the right positive): the angle within +-`limit`
    degrees along which most pairs of boxes far apart line up (their centres' offset across the
    line, summed with a Gaussian weight). The detector's boxes are upright rectangles on a slightly
    turned page, so their own edges do not tell the angle; the rows of a table do."""
    if len(quads) < 6:
        return 0.0
    pts = np.asarray([q.mean(axis=0) for q in quads], dtype=np.float64)
    heights = np.asarray([q[:, 1].max() - q[:, 1].min() for q in quads], dtype=np.float64)
    h = max(float(np.median(heights)), 1.0)
    dx = pts[None, :, 0] - pts[:, None, 0]
    dy = pts[None, :, 1] - pts[:, None, 1]
    far = (dx > 4 * h) & (np.abs(dy) < dx * math.tan(math.radians(limit)) + h)
    dx, dy = dx[far], dy[far]
    if dx.size < 3:
        return 0.0
    sigma = 0.15 * h
    best, best_angle = -1.0, 0.0
    for k in range(-round(limit / step), round(limit / step) + 1):
        angle = math.radians(k * step)
        score = float(np.exp(-((dy - dx * math.tan(angle)) / sigma) ** 2).sum())
        if score > best:
            best, best_angle = score, angle
    return best_angle


def boxes_to_tokens(boxes: list[tuple[np.ndarray, str, float]], width: float, height: float) -> list[Token]:
    """Deskewed word tokens; a box's words get x-ranges in proportion to their characters."""
    angle = skew_angle([b[0] for b in boxes])
    cos, sin = math.cos(-angle), math.sin(-angle)
    cx, cy = width / 2, height / 2
    tokens: list[Token] = []
    for n, (quad, text, score) in enumerate(boxes):
        xs, ys = [], []
        for x, y in quad:
            dx, dy = x - cx, y - cy
            xs.append(cx + dx * cos - dy * sin)
            ys.append(cy + dx * sin + dy * cos)
        x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
        # box height includes the detector's margin; shrink to the text's core
        pad = (bottom - top) * 0.15
        top, bottom = top + pad, bottom - pad
        total = len(text)
        pos = 0
        for word in text.split(" "):
            if word:
                a = x0 + (x1 - x0) * pos / total
                b = x0 + (x1 - x0) * (pos + len(word)) / total
                tokens.append(Token(word, a, b, top, bottom, seg=n, score=score))
            pos += len(word) + 1
    return tokens


# the euro sign as the recogniser misreads it (`∈`, and a lone `E` beside a figure)
_EURO_LIKE = re.compile(r"^([-(+]?)[∈E€]([-)+]?|DR|CR)$")
_EURO_AFTER_FIGURE = re.compile(r"(?<=[.,]\d\d)E(?=(?:DR|CR|[-)])?(?:[A-Z][a-z]|\d{1,2}[/.\-]|$))")  # `6.17EDR`, `10,104.99ECRPin`
_FIGURE_LIKE = re.compile(r"[-(]?[\dOoIl][\dOoIl,.'/]*[\dOoIl][)-]?")
_AS_DIGITS = str.maketrans("OoIl", "0011")
_LEADING_DIGITS = re.compile(r"(\d{1,2})(?=[A-Za-z]{2})")


def _complete(text: str) -> bool:
    """Whether `text` reads whole as a date or an amount."""
    m = DATE_START_RE.match(text)
    return (m is not None and m.end() == len(text)) or parse_money(text) is not None


def repair_line(tokens: list[Token]) -> list[Token]:
    """Undo the recogniser's usual slips on one line, in place of the words they garble:
    - `O`/`o`/`I`/`l` among the digits of a figure (`O4`, `1,O23.45`) for `0`/`1`;
    - `∈` for `€`, and an `E` (with its sign or marker: `E-`, `EDR`) right after or just right of a figure;
    - a figure cut between two boxes that touch (`09/2` | `2Paiement` -> `09/22` | `Paiement`), or one
      digit read twice where they overlap (`2018` | `3Pinbetaling`);
    - a character read twice where two boxes overlap (`-2` | `21,083.25` over `- 21,083.25`): the
      overlap is cut from the shorter word when its last characters start the next word."""
    out: list[Token] = []
    for tok in tokens:
        text = _EURO_AFTER_FIGURE.sub("€", tok.text.replace("∈", "€"))
        if _FIGURE_LIKE.fullmatch(text) and any(c.isdigit() for c in text):
            text = text.translate(_AS_DIGITS)  # `O4`, `1O.5l` in a figure: letters for the digits they resemble
        prev = out[-1] if out else None
        if prev is not None and prev.text[-1:].isdigit() and tok.x0 - prev.x1 < 1.5 * tok.height:
            m = _EURO_LIKE.match(text)
            if m:
                text = f"{m.group(1)}€{m.group(2)}"
        glued = _LEADING_DIGITS.match(text) if prev is not None and prev.text[-1:].isdigit() else None
        if glued:
            width = (tok.x1 - tok.x0) / len(text)
            n = len(glued.group(1))
            if tok.x0 - prev.x1 < 0.3 * width and prev.x1 - tok.x0 < 0.5 * width:
                # boxes that touch: the detector cut a figure (`09/2` | `2Paiement`); the digits go back
                prev.text += glued.group(1)
                prev.x1 += n * width
                text = text[n:]
                tok.x0 += n * width
            elif prev.x1 - tok.x0 >= 0.5 * width and n == 1:
                text = text[1:]  # boxes that overlap: the digit was read twice (`2018` | `3Pinbetaling`)
                tok.x0 += width
        tok.text = text
        if prev is not None and tok.x0 < prev.x1:
            width = (prev.x1 - prev.x0) / max(1, len(prev.text))
            k = min(len(prev.text) - 1, round((prev.x1 - tok.x0) / width))
            # the copy goes from the word it does not complete (`2022/03/012` | `2022/03/01`), else
            # from the shorter word
            if k >= 1 and prev.text[-k:] == tok.text[:k] and (
                    len(prev.text) < len(tok.text) or (_complete(prev.text[:-k]) and not _complete(prev.text))):
                prev.text = prev.text[:-k]
                prev.x1 = tok.x0
        out.append(tok)
    return out


def ocr_page(image, number: int, det_side: int = 1000) -> tuple[list[Line], float, float]:
    """OCR one page image (PIL or array) into lines, in pixel coordinates."""
    arr = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else image
    h, w = arr.shape[:2]
    boxes = ocr_boxes(arr, det_side)
    lines = group_lines(boxes_to_tokens(boxes, w, h), number)
    gray = arr.mean(axis=2) if arr.ndim == 3 else arr
    for line in lines:
        line.tokens = recover_signs(repair_line(line.tokens), gray)
    return lines, float(w), float(h)


def _dash_left_of(gray: np.ndarray, tok: Token, x_from: float) -> tuple[float, float] | None:
    """The x-span of a lone minus printed left of `tok` (in the gap from `x_from`), or None: one
    short, thin, horizontal dark bar at mid height and no other ink in that gap."""
    import cv2

    hgt = tok.bottom - tok.top
    pad = 0.4 * hgt
    y0, y1 = max(0, int(tok.top - pad)), min(gray.shape[0], int(tok.bottom + pad) + 1)
    x0, x1 = max(0, int(max(x_from, tok.x0 - 4 * hgt))), max(0, int(tok.x0) - 1)
    if x1 - x0 < 0.3 * hgt or y1 - y0 < 4:
        return None
    ink = (gray[y0:y1, x0:x1] < 128).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    blobs = [stats[i] for i in range(1, n) if stats[i][cv2.CC_STAT_AREA] >= 2]
    if len(blobs) != 1:
        return None
    bx, by, bw, bh = (int(v) for v in blobs[0][:4])
    mid = y0 + by + bh / 2
    if not (0.2 * hgt <= bw <= 1.2 * hgt and bh <= max(2.0, 0.3 * hgt) and bw >= 2 * bh
            and tok.top + 0.2 * hgt <= mid <= tok.bottom - 0.1 * hgt):
        return None
    return x0 + bx, x0 + bx + bw


def recover_signs(tokens: list[Token], gray: np.ndarray) -> list[Token]:
    """Put back the minus the recogniser dropped when it stands apart from its amount (a sign
    column: `-     50,00`): read from the pixels left of each unsigned amount."""
    out: list[Token] = []
    for tok in tokens:
        money = parse_money(tok.text)
        if money is not None and not money.explicit and not (out and out[-1].text in ("-", "+", "−", "–")):
            span = _dash_left_of(gray, tok, out[-1].x1 + 1 if out else 0.0)
            if span is not None:
                out.append(Token("-", span[0], span[1], tok.top, tok.bottom, seg=tok.seg, score=tok.score))
        out.append(tok)
    return out
