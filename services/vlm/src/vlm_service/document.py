"""Input documents: sniff the type, open PDFs (passwords, corrupt files) and images (PNG, JPEG,
TIFF) within explicit size limits, and turn each page into positioned lines (text layer or OCR)."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from kit.logging import get_logger
from kit_kserve.cancellation import raise_if_cancelled
from kit_kserve.errors import InvalidInput, PayloadTooLarge, UnprocessableInput, UnsupportedMediaType

from .pdfium_lock import PDFIUM
from .textlayer import has_usable_text, page_lines
from .words import Page

logger = get_logger(__name__)


@dataclass
class Limits:
    max_pages: int = 50
    max_image_pixels: int = 40_000_000
    max_bytes: int = 50 * 1024 * 1024
    ocr_dpi: int = 200
    min_dpi: int = 72
    max_render_pixels: int = 300_000_000


def sniff(data: bytes) -> str:
    """`pdf`, `png`, `jpeg` or `tiff`; anything else is 415."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    raise UnsupportedMediaType("unsupported file type: send a PDF, PNG, JPEG or TIFF", code="unsupported_file_type")


class Document:
    """An opened input; `pages()` yields Page objects lazily (text first, OCR when needed)."""

    def __init__(self, data: bytes, limits: Limits, password: str | None = None):
        if len(data) > limits.max_bytes:
            raise PayloadTooLarge(f"file is larger than {limits.max_bytes // (1024 * 1024)} MB", code="file_too_large")
        self.limits = limits
        self.kind = sniff(data)
        self._pdf: pdfium.PdfDocument | None = None
        self._pages = 0
        self._images: list[Image.Image] = []
        if self.kind == "pdf":
            with PDFIUM:
                self._open_pdf(data, password)
                try:
                    self._check_pdf()
                except BaseException:
                    self.close()
                    raise
        else:
            self._open_image(data)
            self._pages = len(self._images)
            self._check_pages()

    def _check_pages(self) -> None:
        if self._pages == 0:
            raise UnprocessableInput("the document has no pages", code="no_pages")
        if self._pages > self.limits.max_pages:
            raise PayloadTooLarge(f"the document has {self._pages} pages; the limit is {self.limits.max_pages}",
                                  code="too_many_pages")

    def _check_pdf(self) -> None:
        """Page count, then the area of all pages at the render resolution (before any page
        is rendered): a small file of huge pages must not cost minutes of rendering."""
        self._pages = len(self._pdf)
        self._check_pages()
        scale = self.limits.ocr_dpi / 72
        total = 0.0
        for i in range(self._pages):
            w, h = self._pdf.get_page_size(i)
            total += min(w * h * scale * scale, self.limits.max_image_pixels)
        if total > self.limits.max_render_pixels:
            raise PayloadTooLarge(
                f"the pages would render to {total / 1e6:.0f} megapixels at {self.limits.ocr_dpi} dpi; the limit is "
                f"{self.limits.max_render_pixels / 1e6:.0f} (VLM_MAX_RENDER_MEGAPIXELS)", code="render_too_large")

    # -- opening -------------------------------------------------------------------------
    def _open_pdf(self, data: bytes, password: str | None) -> None:
        try:
            self._pdf = pdfium.PdfDocument(data, password=password or None)
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == pdfium_c.FPDF_ERR_PASSWORD:
                if password:
                    raise UnprocessableInput("the password for this encrypted PDF is wrong",
                                             code="invalid_password") from None
                raise UnprocessableInput("this PDF is encrypted: a password is needed (option 'password')",
                                         code="password_required") from None
            raise UnprocessableInput("the PDF is corrupt or truncated and cannot be read",
                                     code="invalid_pdf") from None

    def _open_image(self, data: bytes) -> None:
        limit = self.limits.max_image_pixels
        Image.MAX_IMAGE_PIXELS = limit  # PIL's own bomb check (warns over, refuses at twice this)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
                frames = getattr(img, "n_frames", 1)
                if frames > self.limits.max_pages:
                    raise PayloadTooLarge(f"the image has {frames} pages; the limit is {self.limits.max_pages}",
                                          code="too_many_pages")
                for i in range(frames):
                    img.seek(i)
                    w, h = img.size
                    if w * h > limit:
                        raise PayloadTooLarge(f"image of {w}x{h} pixels is over the limit of {limit} pixels",
                                              code="image_too_large")
                    frame = ImageOps.exif_transpose(img).convert("RGB")
                    self._images.append(frame)
        except InvalidInput:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PayloadTooLarge("image is too large (decompression bomb protection)", code="image_too_large") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UnprocessableInput(f"the {self.kind.upper()} image is corrupt or truncated",
                                     code="invalid_image") from exc

    # -- pages ---------------------------------------------------------------------------
    @property
    def page_count(self) -> int:
        return self._pages

    def render(self, index: int, dpi: int | None = None) -> Image.Image:
        """Page `index` (0-based) as an RGB image, capped at the pixel limit."""
        raise_if_cancelled()
        if self._pdf is None:
            return self._images[index]
        with PDFIUM:
            page = self._pdf[index]
            try:
                dpi = dpi or self._native_dpi(page)
                w, h = page.get_size()
                scale = dpi / 72
                if w * h * scale * scale > self.limits.max_image_pixels:
                    scale = math.sqrt(self.limits.max_image_pixels / (w * h))
                    if scale * 72 < self.limits.min_dpi:
                        raise PayloadTooLarge(f"page {index + 1} is too large to render ({w:.0f}x{h:.0f} pt)",
                                              code="page_too_large")
                bitmap = page.render(scale=scale)
                try:
                    return bitmap.to_pil().convert("RGB")  # a copy: the bitmap is freed below
                finally:
                    bitmap.close()
            finally:
                page.close()

    def _native_dpi(self, page: pdfium.PdfPage) -> int:
        """The resolution of a scanned page's image, within [150, ocr_dpi]."""
        width = page.get_size()[0]
        best = 0.0
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1):
            try:
                px_w, _ = obj.get_px_size()
                left, _, right, _ = obj.get_bounds()
            except (pdfium.PdfiumError, AttributeError):
                continue
            if right - left > 0.5 * width:
                best = max(best, px_w / ((right - left) / 72))
        if best <= 0:
            return self.limits.ocr_dpi
        return int(min(self.limits.ocr_dpi, max(150, best)))

    def text_page(self, index: int) -> Page:
        """Page `index` from its text layer (lines may be empty)."""
        raise_if_cancelled()
        number = index + 1
        if self._pdf is None:
            img = self._images[index]
            return Page(number, [], "image", float(img.width), float(img.height))
        with PDFIUM:
            page = self._pdf[index]
            try:
                lines, w, h = page_lines(page, number)
            finally:
                page.close()
        return Page(number, lines, "text", w, h)

    def close(self) -> None:
        if self._pdf is not None:
            with PDFIUM:
                self._pdf.close()
            self._pdf = None


def needs_ocr(page: Page) -> bool:
    return not has_usable_text(page.lines)
