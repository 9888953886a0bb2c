"""The statement pipeline: document -> text layer or OCR -> layout -> normalise -> checks -> VLM
fallback, and `task: ask` on a page image."""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput, ModelNotReady
from kit_kserve.metrics import observe

from .checks import Txn, problem, reconciles, reconciles_better
from .document import Document, Limits, needs_ocr
from .extract import Extraction, Options, confidence, extract, mask_text, result_json, score
from .geometry import locate_amounts
from .ocr import ocr_page
from .settings import Settings
from .textquality import assess
from .vlm import VLM, VLMOutputError
from .words import Page

logger = get_logger(__name__)

TASKS = ("extract", "ask", "render")
RENDER_WIDTHS = (100, 2000)  # `task: render`: the page image's width in pixels, within these
# a text layer that does not reconcile is OCR'd again when its figures (tokens with digits) read
# this badly or worse (clean text layers of real and generated statements: 0.95-1.0; OCR layers of
# scans confuse O/0, l/1 in their figures)
SUSPECT_SCORE = 0.93
DATE_ORDERS = ("DMY", "MDY", "YMD", "AUTO")


@dataclass
class Request:
    task: str = "extract"
    question: str | None = None
    page: int = 1
    password: str | None = None
    locale: str | None = None
    date_order: str | None = None
    width: int = 1200


def _opt_str(options: dict, key: str, limit: int = 2000) -> str | None:
    value = options.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise InvalidInput(f"option '{key}' must be a string", code="invalid_option")
    if len(value) > limit:
        raise InvalidInput(f"option '{key}' is longer than {limit} characters", code="invalid_option")
    return value


def parse_request(options: dict) -> Request:
    """Validate the request options; bad values are 400 with the option named."""
    req = Request()
    task = (_opt_str(options, "task") or "extract").lower()
    if task not in TASKS:
        raise InvalidInput(f"option 'task' must be one of {', '.join(TASKS)}", code="invalid_option")
    req.task = task
    req.question = _opt_str(options, "question")
    req.password = _opt_str(options, "password", 256)
    req.locale = _opt_str(options, "locale", 32)
    order = _opt_str(options, "date_order", 8)
    if order is not None:
        if order.upper() not in DATE_ORDERS:
            raise InvalidInput("option 'date_order' must be DMY, MDY, YMD or auto", code="invalid_option")
        req.date_order = None if order.upper() == "AUTO" else order.upper()
    page = options.get("page", 1)
    try:
        req.page = int(page)
    except (TypeError, ValueError):
        raise InvalidInput("option 'page' must be a page number", code="invalid_option") from None
    if req.page < 1:
        raise InvalidInput("option 'page' must be 1 or more", code="invalid_option")
    width = options.get("width", req.width)
    try:
        req.width = int(width)
    except (TypeError, ValueError):
        raise InvalidInput("option 'width' must be a number of pixels", code="invalid_option") from None
    if not RENDER_WIDTHS[0] <= req.width <= RENDER_WIDTHS[1]:
        raise InvalidInput(f"option 'width' must be {RENDER_WIDTHS[0]} to {RENDER_WIDTHS[1]} pixels",
                           code="invalid_option")
    if req.task == "ask" and not req.question:
        raise InvalidInput("task 'ask' needs a 'question'", code="missing_question")
    return req


class Pipeline:
    """Runs one document through every stage; thread-safe (OCR and VLM serialise themselves)."""

    def __init__(self, settings: Settings, vlm: VLM | None = None):
        self.settings = settings
        self.vlm = vlm
        self.limits = Limits(max_pages=settings.max_pages, max_image_pixels=settings.max_image_pixels,
                             max_bytes=int(settings.max_file_mb * 1024 * 1024), ocr_dpi=settings.ocr_dpi)
        self.name = settings.model_name

    def vlm_status(self, used: bool = False) -> dict:
        if self.vlm is None:
            return {"configured": False, "used": False,
                    "message": "VLM not configured (set VLM_MODEL); extracted with text layer/OCR and layout rules"}
        return {"configured": True, "used": used}

    def run(self, data: bytes, options: dict) -> dict:
        req = parse_request(options)
        start = time.perf_counter()
        with observe(self.name, "open"):
            doc = Document(data, self.limits, req.password)
        try:
            if req.task == "ask":
                return self._ask(doc, req)
            if req.task == "render":
                return self._render(doc, req)
            return self._extract(doc, req, start)
        finally:
            doc.close()

    # -- extract -------------------------------------------------------------------------
    def _ocr(self, doc: Document, i: int, page: Page) -> Page:
        image = doc.render(i)
        with observe(self.name, "ocr"):
            lines, w, h = ocr_page(image, i + 1)
        if doc.kind == "pdf" and page.width:  # pixels -> points, like text-layer pages
            f = page.width / w
            for tok in (t for ln in lines for t in ln.tokens):
                tok.x0, tok.x1, tok.top, tok.bottom = tok.x0 * f, tok.x1 * f, tok.top * f, tok.bottom * f
            w, h = page.width, page.height
        return Page(i + 1, lines, "ocr", w, h)

    def _pages(self, doc: Document) -> tuple[list[Page], list[dict]]:
        """Each page from its text layer, or OCR'd when it has none or a garbled/poor one; and
        per page where it was read from and why."""
        pages, info = [], []
        for i in range(doc.page_count):
            with observe(self.name, "text"):
                page = doc.text_page(i)
            quality = assess(page) if page.lines else None
            if needs_ocr(page) or (quality is not None and not quality.usable):
                why = quality.reason if quality is not None and page.lines and not needs_ocr(page) \
                    else ("an image" if doc.kind != "pdf" else "no usable text layer")
                page = self._ocr(doc, i, page)
            else:
                why = quality.reason
            pages.append(page)
            info.append({"page": i + 1, "source": page.source, "why": why,
                         "width": round(page.width, 1), "height": round(page.height, 1),
                         "units": "pt" if doc.kind == "pdf" else "px"})
        return pages, info

    def _extract(self, doc: Document, req: Request, start: float) -> dict:
        pages, info = self._pages(doc)
        with observe(self.name, "parse"):
            ex = extract(pages, Options(req.locale, req.date_order))
        if not ex.reading.get("reconciled") and doc.kind == "pdf":
            ex = self._retry_with_ocr(doc, req, pages, info, ex)
        for t in ex.txns:
            t.source = pages[t.page - 1].source if 0 < t.page <= len(pages) else t.source
        used = False
        if self.vlm is not None and self.settings.fallback and not ex.reading.get("reconciled"):
            with observe(self.name, "vlm"):
                used = self._fallback(doc, ex, pages, info)
        result = result_json(ex, doc.page_count, self.vlm_status(used), info)
        logger.info("extracted %d transactions from %d pages (%d by OCR) in %.2fs; running_ok=%s reconcile=%s",
                    len(ex.txns), doc.page_count, sum(p.source == "ocr" for p in pages),
                    time.perf_counter() - start, ex.checks.running_balance_ok, ex.checks.totals_reconcile)
        return result

    def _retry_with_ocr(self, doc: Document, req: Request, pages: list[Page], info: list[dict],
                        ex: Extraction) -> Extraction:
        """A text layer that does not reconcile and is not spotless (an OCR layer of a scan) is
        read again by OCR; the reading that reconciles better is kept."""
        suspect = [k for k, p in enumerate(pages) if p.source == "text" and assess(p).figures < SUSPECT_SCORE]
        if not suspect:
            return ex
        again = list(pages)
        for k in suspect:
            again[k] = self._ocr(doc, k, pages[k])
        with observe(self.name, "parse"):
            other = extract(again, Options(req.locale, req.date_order))
        if score(other) > score(ex):
            for k in suspect:
                pages[k] = again[k]
                info[k].update(source="ocr", why="the text layer did not reconcile; its OCR does")
            return other
        return ex

    def _fallback(self, doc: Document, ex: Extraction, pages: list[Page], info: list[dict]) -> bool:
        """No reading reconciles: ask the VLM per page (the image and the words already read);
        accept its rows only when they reconcile (running balances, and totals where printed)."""
        bad = sorted({t.page for t in ex.txns if not t.balance_ok})
        if not bad:
            bad = list(range(1, min(doc.page_count, 3) + 1))
        notes: list[dict] = []
        for page in bad:
            image = doc.render(page - 1, dpi=150)
            words = pages[page - 1].lines if 0 < page <= len(pages) else []
            try:
                rows = self.vlm.extract_rows(image, ex.order, ex.period, ex.default_year,
                                             words=" \n".join(ln.text for ln in words))
            except VLMOutputError as exc:
                notes.append(problem(page, None, "vlm_output_invalid",
                                     f"VLM fallback on page {page}: {exc}; the page keeps its flagged rows"))
                continue
            except Exception:  # a model failure must not fail the request
                logger.exception("VLM fallback failed on page %d", page)
                notes.append(problem(page, None, "vlm_failed",
                                     f"VLM fallback on page {page} failed; the page keeps its flagged rows"))
                continue
            old = [t for t in ex.txns if t.page == page]
            before = self._balance_before(ex, page)
            boxes = locate_amounts(pages[page - 1], [r.amount for r in rows]) if 0 < page <= len(pages) \
                else [None] * len(rows)
            new = [Txn(r.date, r.description, r.amount, r.balance, page, i + 1, 0.7, source="vlm", bbox=box)
                   for i, (r, box) in enumerate(zip(rows, boxes))]
            candidate = [t for t in ex.txns if t.page < page] + new + [t for t in ex.txns if t.page > page]
            if reconciles(new, before) and reconciles_better(old, new, before) and \
                    self._totals_hold(ex, candidate):
                ex.txns = candidate
                info[page - 1].update(source="vlm", why="no reading of the page reconciled; the VLM's does")
                notes.append(problem(page, None, "vlm_fallback_used",
                                     f"page {page} re-extracted by the VLM ({len(new)} rows); they reconcile"))
            else:
                notes.append(problem(page, None, "vlm_fallback_rejected",
                                     f"VLM rows for page {page} do not reconcile; the page keeps its "
                                     f"flagged rows"))
        if ex.opening is None and ex.txns and ex.txns[0].balance is not None:
            ex.opening = ex.txns[0].balance - ex.txns[0].amount
        if ex.closing is None and ex.txns:
            ex.closing = next((t.balance for t in reversed(ex.txns) if t.balance is not None), None)
        ex.recheck(notes)
        ex.reading["reconciled"] = bool(ex.txns) and ex.checks.running_balance_ok and ex.checks.totals_reconcile
        ex.reading["confidence"] = confidence(ex)
        return True

    @staticmethod
    def _totals_hold(ex: Extraction, txns: list[Txn]) -> bool:
        """With printed opening and closing balances, the new rows must also reconcile the totals."""
        if not (ex.reading.get("opening_printed") and ex.reading.get("closing_printed")):
            return True
        return ex.opening + sum((t.amount for t in txns), Decimal(0)) == ex.closing

    @staticmethod
    def _balance_before(ex: Extraction, page: int) -> Decimal | None:
        prev = [t for t in ex.txns if t.page < page and t.balance is not None]
        return prev[-1].balance if prev else ex.opening

    # -- render --------------------------------------------------------------------------
    def _render(self, doc: Document, req: Request) -> dict:
        """One page as a PNG `width` pixels wide (never wider than the page at the OCR resolution),
        for showing where each row was read; `page_width`/`page_height` are the page in the units
        of the extract result's `bbox` (PDF points or image pixels), so `bbox * width / page_width`
        are the image's pixels."""
        if req.page > doc.page_count:
            raise InvalidInput(f"page {req.page} does not exist (the document has {doc.page_count})",
                               code="invalid_option")
        page = doc.text_page(req.page - 1)
        most = page.width * self.limits.ocr_dpi / 72 if doc.kind == "pdf" else page.width
        width = max(1, min(req.width, round(most)))
        with observe(self.name, "render"):
            if doc.kind == "pdf":
                image = doc.render(req.page - 1, dpi=max(1, round(width * 72 / page.width)))
            else:
                image = doc.render(req.page - 1)
            if image.width != width:
                image = image.resize((width, max(1, round(image.height * width / image.width))), Image.LANCZOS)
            buf = io.BytesIO()
            image.save(buf, format="PNG", optimize=False)
        return {"task": "render", "page": req.page, "pages": doc.page_count, "media_type": "image/png",
                "width": image.width, "height": image.height, "page_width": round(page.width, 1),
                "page_height": round(page.height, 1), "units": "pt" if doc.kind == "pdf" else "px",
                "image": {"b64": base64.b64encode(buf.getvalue()).decode("ascii")}}

    # -- ask -----------------------------------------------------------------------------
    def _ask(self, doc: Document, req: Request) -> dict:
        if self.vlm is None:
            raise ModelNotReady(self.name, "the VLM is not configured (set VLM_MODEL); task 'ask' needs it",
                                code="vlm_not_configured")
        if req.page > doc.page_count:
            raise InvalidInput(f"page {req.page} does not exist (the document has {doc.page_count})",
                               code="invalid_option")
        image = doc.render(req.page - 1, dpi=150)
        with observe(self.name, "vlm"):
            answer = self.vlm.generate(image, req.question, max_new_tokens=min(512, self.settings.max_new_tokens))
        account = None
        if doc.kind == "pdf":
            from .layout import ACCOUNT_RE

            for line in doc.text_page(req.page - 1).lines:
                m = ACCOUNT_RE.search(line.text)
                if m:
                    account = m.group("num").replace(" ", "").replace("-", "")
                    break
        return {"task": "ask", "question": req.question, "answer": mask_text(answer, account),
                "page": req.page, "pages": doc.page_count, "vlm": self.vlm_status(True)}
