"""OCR of scanned PDF pages with RapidOCR (PP-OCRv4 ONNX models shipped in the
`rapidocr-onnxruntime` wheel, so it runs offline): text boxes grouped into lines, top to bottom."""

from __future__ import annotations

import os
import threading

import numpy as np

_engine = None
_lock = threading.Lock()


def engine():
    """The shared RapidOCR engine (created on first use); calls are serialised, since its detector
    keeps per-call state on the instance."""
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR

        threads = max(1, min(4, os.cpu_count() or 1))
        _engine = RapidOCR(use_cls=False, intra_op_num_threads=threads, inter_op_num_threads=1)
    return _engine


def lines_from_boxes(boxes: list[tuple[list, str, float]], min_score: float = 0.5) -> list[str]:
    """Group (quad, text, score) boxes into reading-order lines: boxes whose vertical centres lie
    within half a box height of a line's join it; lines top to bottom, boxes left to right."""
    items = []
    for quad, text, score in boxes:
        if score < min_score or not text.strip():
            continue
        q = np.asarray(quad, dtype=np.float32)
        top, bottom = float(q[:, 1].min()), float(q[:, 1].max())
        items.append(((top + bottom) / 2, bottom - top, float(q[:, 0].min()), text.strip()))
    items.sort()
    lines: list[list[tuple[float, str]]] = []
    centres: list[float] = []
    for centre, height, x, text in items:
        if lines and abs(centre - centres[-1]) <= height / 2:
            lines[-1].append((x, text))
        else:
            lines.append([(x, text)])
            centres.append(centre)
    return [" ".join(t for _, t in sorted(line)) for line in lines]


def image_text(image: np.ndarray, bgr: bool = True, det_side: int = 1000) -> str:
    """The text of a page image (H x W x 3 or 4, uint8). Detection runs on a copy scaled to at
    most `det_side` pixels (faster, and it keeps the gaps between words inside one box so
    recognition sees them); recognition on crops of the full-resolution page."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if not bgr:
        image = image[:, :, ::-1]
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    scale = min(1.0, det_side / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1 else image
    with _lock:
        eng = engine()
        boxes, _ = eng.text_det(small)
        if boxes is None or len(boxes) == 0:
            return ""
        quads = [np.asarray(b, dtype=np.float32) / scale for b in eng.sorted_boxes(boxes)]
        texts = eng.text_rec(eng.get_crop_img_list(image, quads), False)[0]
    return "\n".join(lines_from_boxes([(q, t, score) for q, (t, score) in zip(quads, texts)]))
