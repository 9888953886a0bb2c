"""Text of uploaded documents, page by page: PDF (text layer, OCR for scanned pages), DOCX,
HTML, Markdown and plain text. Character offsets of citations index into a page's text."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput, PayloadTooLarge, UnprocessableInput, UnsupportedMediaType

logger = get_logger(__name__)

# pdfium is not thread-safe: one call at a time in this process
PDFIUM_LOCK = threading.Lock()

KINDS = ("pdf", "docx", "html", "markdown", "text")
_BY_TYPE = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
}
_BY_SUFFIX = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".md": "markdown",
              ".markdown": "markdown", ".txt": "text", ".text": "text"}


@dataclass
class Page:
    """One page's text; `source` is "text" (text layer or markup) or "ocr"."""

    number: int
    text: str
    source: str = "text"


def detect_kind(data: bytes, content_type: str, filename: str) -> str:
    """The document kind from its bytes first (PDF, ZIP), then its content type, then its name."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    declared = _BY_TYPE.get(ctype) or _BY_SUFFIX.get(suffix)
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        if declared == "docx" or _is_docx(data):
            return "docx"
        raise UnsupportedMediaType("a ZIP archive that is not a DOCX document", code="unsupported_type")
    if declared in ("pdf", "docx"):
        raise UnprocessableInput(f"the file is declared {declared.upper()} but is not one (corrupt or truncated)",
                                 code="corrupt_document")
    if declared is None:
        if ctype.startswith("text/") or not ctype and not suffix:
            declared = "text"
        else:
            raise UnsupportedMediaType(f"unsupported document type {ctype or suffix!r}: PDF, DOCX, HTML, "
                                       "Markdown or plain text", code="unsupported_type")
    if b"\x00" in data[:8192]:
        raise UnsupportedMediaType("binary data is not a text document", code="unsupported_type")
    return declared


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def normalise(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
             "article", "header", "footer", "blockquote", "pre", "title", "dd", "dt", "hr"}
    SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self.skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_text(data: bytes) -> str:
    parser = _HTMLText()
    parser.feed(decode_text(data))
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    body = "\n".join(lines)
    title = parser.title.strip()
    return normalise((title + "\n\n" if title else "") + body)


def markdown_text(data: bytes) -> str:
    """Markdown as readable text: headings, emphasis, links and code fences lose their markup."""
    text = decode_text(data)
    text = re.sub(r"^```.*$", "", text, flags=re.M)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.M)
    text = re.sub(r"^\s{0,3}>\s?", "", text, flags=re.M)
    text = re.sub(r"^\s*[-*+]\s+", "- ", text, flags=re.M)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])[*_]([^*_\n]+)[*_](?![\w*])", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"^\s*(\|?\s*:?-{3,}:?\s*)+\|?\s*$", "", text, flags=re.M)
    return normalise(text)


def docx_pages(data: bytes) -> list[Page]:
    """Paragraphs and table cells in order; explicit page breaks start a new page."""
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise UnprocessableInput(f"cannot read the DOCX document: {type(exc).__name__}",
                                 code="corrupt_document") from exc
    pages: list[list[str]] = [[]]
    body = document.element.body
    for block in body.iterchildren():
        if block.tag == qn("w:p"):
            texts = []
            for node in block.iter():
                if node.tag == qn("w:t") and node.text:
                    texts.append(node.text)
                elif node.tag == qn("w:tab"):
                    texts.append("\t")
                elif node.tag == qn("w:br") and node.get(qn("w:type")) == "page":
                    pages[-1].append("".join(texts))
                    texts = []
                    pages.append([])
            pages[-1].append("".join(texts))
        elif block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells = ["".join(t.text or "" for t in cell.iter(qn("w:t"))) for cell in row.iter(qn("w:tc"))]
                pages[-1].append(" | ".join(c.strip() for c in cells))
    return [Page(i + 1, normalise("\n".join(p))) for i, p in enumerate(pages)]


def pdf_pages(data: bytes, max_pages: int, ocr_min_chars: int, ocr_dpi: int) -> list[Page]:
    """Each page's text layer; pages with less than `ocr_min_chars` characters are OCR'd."""
    import pypdfium2 as pdfium

    from . import ocr

    scans = []
    pages: list[Page] = []
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            message = str(exc).lower()
            if "password" in message:
                raise UnprocessableInput("the PDF is encrypted with a password", code="encrypted_pdf") from exc
            raise UnprocessableInput("cannot open the PDF: it is corrupt or truncated",
                                     code="corrupt_document") from exc
        try:
            count = len(pdf)
            if count == 0:
                raise UnprocessableInput("the PDF has no pages", code="empty_document")
            if count > max_pages:
                raise PayloadTooLarge(f"the PDF has {count} pages; the limit is {max_pages}", code="too_many_pages")
            for i in range(count):
                page = pdf[i]
                textpage = page.get_textpage()
                text = normalise(textpage.get_text_range())
                textpage.close()
                if len(text.replace(" ", "").replace("\n", "")) < ocr_min_chars:
                    bitmap = page.render(scale=ocr_dpi / 72)
                    scans.append((i, bitmap.to_numpy().copy(), bitmap.format))
                    bitmap.close()
                pages.append(Page(i + 1, text))
                page.close()
        finally:
            pdf.close()
    for i, image, fmt in scans:  # OCR runs outside the pdfium lock
        text = normalise(ocr.image_text(image, bgr=fmt in (pdfium.raw.FPDFBitmap_BGR, pdfium.raw.FPDFBitmap_BGRA,
                                                           pdfium.raw.FPDFBitmap_BGRx)))
        if len(text) > len(pages[i].text):
            pages[i] = Page(i + 1, text, "ocr")
    return pages


def extract(data: bytes, content_type: str, filename: str, *, max_pages: int = 2000, ocr_min_chars: int = 20,
            ocr_dpi: int = 200) -> tuple[str, list[Page]]:
    """(kind, pages) of a document; raises kit's 4xx errors for empty, unsupported or corrupt input."""
    if not data:
        raise InvalidInput("the document is empty", code="empty_document")
    kind = detect_kind(data, content_type, filename)
    if kind == "pdf":
        pages = pdf_pages(data, max_pages, ocr_min_chars, ocr_dpi)
    elif kind == "docx":
        pages = docx_pages(data)
    elif kind == "html":
        pages = [Page(1, html_text(data))]
    elif kind == "markdown":
        pages = [Page(1, markdown_text(data))]
    else:
        pages = [Page(1, normalise(decode_text(data)))]
    if not any(p.text for p in pages):
        raise InvalidInput("the document has no text (nor text that OCR could read)", code="empty_document")
    return kind, pages
