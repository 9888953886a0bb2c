"""Documents translated with their structure kept: .txt, .md, .docx and .html.

Each format is cut into the texts a reader sees (paragraphs, runs, cells, text nodes), all
of them go through one `translate(texts) -> texts` call (so they share batches), and the
document is written back with the translations in place: headings, lists, tables, run
formatting and markup untouched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from kit_kserve.errors import PayloadTooLarge, UnprocessableInput, UnsupportedMediaType

Translate = Callable[[list[str], re.Pattern | None], list[str]]

MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
              ".docx": "docx"}
# Markdown spans that stay as they are: inline code, link targets, images, autolinks, HTML tags
MD_FIXED = re.compile(r"`[^`\n]+`|\]\([^)\s]+(?:\s+\"[^\"]*\")?\)|!\[|<https?://[^>\s]+>|https?://\S+|</?[A-Za-z][^>]*>")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
SKIP_HTML = {"script", "style", "code", "pre", "kbd", "samp", "var", "math", "svg", "template"}
HTML_ATTRS = ("title", "alt", "placeholder")


def kind_of(filename: str | None, data: bytes) -> str:
    """txt | md | html | docx from the file name, checked against the bytes."""
    ext = PurePosixPath(filename or "").suffix.lower()
    kind = EXTENSIONS.get(ext)
    if kind is None:
        if data[:2] == b"PK":
            kind = "docx"
        elif re.match(rb"\s*(<!doctype html|<html)", data[:512], re.I):
            kind = "html"
        elif filename:
            raise UnsupportedMediaType(f"cannot translate '{ext or filename}' files; send .txt, .md, .docx or .html",
                                       code="unsupported_document")
        else:
            kind = "txt"
    if kind == "docx" and data[:2] != b"PK":
        raise UnprocessableInput("the file is named .docx but is not a Word document", code="invalid_document")
    if kind != "docx" and (b"\x00" in data[:4096] or data[:2] == b"PK"):
        raise UnprocessableInput(f"the file is named .{kind} but holds binary data", code="invalid_document")
    return kind


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding); UTF-8 (with or without BOM) or UTF-16 with BOM."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        raise UnprocessableInput(f"the text is not UTF-8 (byte {exc.start})", code="invalid_encoding") from None


def translate_document(data: bytes, filename: str | None, translate: Translate) -> tuple[bytes, str, str, int]:
    """(translated bytes, media type, kind, number of texts translated)."""
    kind = kind_of(filename, data)
    if kind == "docx":
        out, count = _docx(data, translate)
        return out, MEDIA_TYPES[kind], kind, count
    text, encoding = decode_text(data)
    if kind == "txt":
        out, count = translate([text], None)[0], 1
    elif kind == "md":
        out, count = _markdown(text, translate)
    else:
        out, count = _html(text, translate)
    return out.encode(encoding if encoding != "utf-16" else "utf-16"), MEDIA_TYPES[kind], kind, count


# ---------------------------------------------------------------- Markdown


def _markdown(text: str, translate: Translate) -> tuple[str, int]:
    """Lines outside code blocks are translated (headings, lists and quotes keep their marks);
    table rows cell by cell; code, link targets and URLs kept."""
    lines = text.splitlines(keepends=True)
    slots: list[tuple[int, int | None]] = []  # (line index, cell index or None)
    texts: list[str] = []
    cells: dict[int, list[str]] = {}
    fence = None
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1) == fence:
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if line.startswith(("    ", "\t")) and (i == 0 or not lines[i - 1].strip()):
            continue  # indented code block
        if "|" in line and line.strip().startswith("|"):
            if _TABLE_RULE.match(line):
                continue
            parts = line.split("|")
            cells[i] = parts
            for j, cell in enumerate(parts):
                if cell.strip():
                    slots.append((i, j))
                    texts.append(cell)
            continue
        if line.strip():
            slots.append((i, None))
            texts.append(line)
    out = translate(texts, MD_FIXED) if texts else []
    for (i, j), new in zip(slots, out):
        if j is None:
            lines[i] = new + lines[i][len(lines[i].rstrip("\r\n")):]
        else:
            cells[i][j] = new
    for i, parts in cells.items():
        lines[i] = "|".join(parts) + lines[i][len(lines[i].rstrip("\r\n")):]
    return "".join(lines), len(texts)


# ---------------------------------------------------------------- HTML


def _html(text: str, translate: Translate) -> tuple[str, int]:
    """Text nodes and title/alt/placeholder attributes, outside script, style and code."""
    import lxml.html
    from lxml import etree

    doctype = re.match(r"\s*<!doctype[^>]*>", text, re.I)
    try:
        root = lxml.html.document_fromstring(text) if re.search(r"<html", text[:2048], re.I) else \
            lxml.html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise UnprocessableInput(f"cannot parse the HTML: {exc}", code="invalid_document") from None
    fragment = not re.search(r"<html", text[:2048], re.I)
    slots: list[tuple[object, str]] = []
    texts: list[str] = []

    def skipped(el) -> bool:
        return any(isinstance(a.tag, str) and a.tag.lower() in SKIP_HTML for a in [el, *el.iterancestors()])

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        own_skip = skipped(el)
        if not own_skip:
            if el.text and el.text.strip():
                slots.append((el, "text"))
                texts.append(el.text)
            for attr in HTML_ATTRS:
                if el.get(attr, "").strip():
                    slots.append((el, "@" + attr))
                    texts.append(el.get(attr))
        parent = el.getparent()
        if el.tail and el.tail.strip() and (parent is None or not skipped(parent)):
            slots.append((el, "tail"))
            texts.append(el.tail)
    out = translate(texts, None) if texts else []
    for (el, where), new in zip(slots, out):
        if where == "text":
            el.text = new
        elif where == "tail":
            el.tail = new
        else:
            el.set(where[1:], new)
    if fragment:
        body = (root.text or "") + "".join(lxml.html.tostring(c, encoding="unicode") for c in root)
        return body, len(texts)
    html = lxml.html.tostring(root, encoding="unicode")
    return (doctype.group(0).strip() + "\n" if doctype else "") + html, len(texts)


# ---------------------------------------------------------------- Word


def _run_style(run) -> tuple:
    f = run.font
    return (run.style.name if run.style is not None else None, f.bold, f.italic, f.underline, f.strike,
            f.name, f.size, f.color.rgb if f.color is not None and f.color.type is not None else None,
            f.superscript, f.subscript, f.highlight_color)


def _paragraphs(doc):
    """Every paragraph of the body, its tables (nested too), headers and footers."""
    def walk(container):
        for p in container.paragraphs:
            yield p
        for table in getattr(container, "tables", []):
            for row in table.rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    yield from walk(cell)

    yield from walk(doc)
    for section in doc.sections:
        for part in (section.header, section.footer):
            if part is not None and not part.is_linked_to_previous:
                yield from walk(part)


def _docx(data: bytes, translate: Translate) -> tuple[bytes, int]:
    """Paragraph by paragraph: runs of one formatting are translated together as one text and the
    translation goes into the first of them; runs of different formatting keep their own."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnprocessableInput(f"cannot open the Word document: {exc.__class__.__name__}",
                                 code="invalid_document") from None
    except Exception as exc:  # zipfile.BadZipFile, lxml errors
        raise UnprocessableInput(f"cannot open the Word document: {exc.__class__.__name__}",
                                 code="invalid_document") from None
    groups: list[list] = []  # runs translated as one text
    for p in _paragraphs(doc):
        current: list = []
        style = None
        for run in p.runs:
            s = _run_style(run)
            if current and s != style:
                groups.append(current)
                current = []
            current.append(run)
            style = s
        if current:
            groups.append(current)
    groups = [g for g in groups if "".join(r.text for r in g).strip()]
    texts = ["".join(r.text for r in g) for g in groups]
    out = translate(texts, None) if texts else []
    for group, new in zip(groups, out):
        group[0].text = new
        for run in group[1:]:
            run.text = ""
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue(), len(texts)


def output_name(filename: str | None, target: str, kind: str) -> str:
    stem = PurePosixPath(filename or f"document.{kind}").stem or "document"
    stem = re.sub(r"[^\w.-]+", "_", stem)[:100]
    ext = PurePosixPath(filename or "").suffix.lower() or f".{kind}"
    return f"{stem}.{target}{ext}"


def check_size(data: bytes, max_mb: float) -> None:
    if len(data) > max_mb * 1024 * 1024:
        raise PayloadTooLarge(f"the document is {len(data) / 1048576:.1f} MB; the limit is {max_mb:g} MB",
                           code="document_too_large")
