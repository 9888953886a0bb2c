"""Documents keep their structure: .docx paragraphs, runs, headings and tables; .html markup;
.md headings, lists, code and tables; .txt lines. Words come from the tiny random model."""

import io
import re

import docx
import lxml.html
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH

from kit_kserve.errors import InvalidInput
from translation_service.documents import translate_document
from translation_service.translator import Translator

GLOSSARY = {"ACME Bank": "ACME Bank"}


@pytest.fixture(scope="module")
def translate(hf_engine):
    tr = Translator([hf_engine])
    return lambda texts, fixed: tr.translate_texts(texts, "en", "de", GLOSSARY, fixed)


def make_docx() -> bytes:
    doc = docx.Document()
    doc.add_heading("Annual letter to ACME Bank", level=1)
    p = doc.add_paragraph("The customer reads ")
    p.add_run("every invoice").bold = True
    p.add_run(" and the team checks the statement.")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("First point: the bank sends two documents.", style="List Bullet")
    doc.add_paragraph("Second point: the river closes.", style="List Number")
    table = doc.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"The teacher writes letter {r * 2 + c + 1}." if (r, c) != (1, 1) else "1,250.00"
    doc.add_heading("Details", level=2)
    doc.add_paragraph("")
    doc.sections[0].header.paragraphs[0].text = "Our team, confidential"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_docx_structure_is_kept(translate):
    src = docx.Document(io.BytesIO(make_docx()))
    data, media, kind, count = translate_document(make_docx(), "letter.docx", translate)
    out = docx.Document(io.BytesIO(data))
    assert kind == "docx" and media.endswith("wordprocessingml.document") and count >= 8
    assert [p.style.name for p in out.paragraphs] == [p.style.name for p in src.paragraphs]
    assert [p.alignment for p in out.paragraphs] == [p.alignment for p in src.paragraphs]
    changed = [(a.text, b.text) for a, b in zip(src.paragraphs, out.paragraphs) if a.text.strip()]
    assert all(b.strip() and b != a for a, b in changed)
    assert "ACME Bank" in out.paragraphs[0].text  # glossary term kept in the heading
    bold = out.paragraphs[1].runs[1]
    assert bold.bold and bold.text.strip() and bold.text != "every invoice"  # formatted run translated alone
    assert len(out.tables) == 1 and len(out.tables[0].rows) == 2 and len(out.tables[0].columns) == 2
    assert out.tables[0].style.name == "Table Grid"
    assert out.tables[0].cell(1, 1).text == "1,250.00"  # nothing to translate in a number
    assert out.tables[0].cell(0, 0).text != src.tables[0].cell(0, 0).text
    assert out.sections[0].header.paragraphs[0].text != "Our team, confidential"
    assert out.paragraphs[-1].text == ""


HTML = """<!DOCTYPE html>
<html lang="en"><head><title>Letter to ACME Bank</title><style>p { color: red }</style></head>
<body>
<h1 id="top">The bank sends the statement.</h1>
<p class="lead">The customer reads <b>every invoice</b> and <a href="https://example.org/x?a=1">the contract</a>.</p>
<ul><li>First item.</li><li>Second item.</li></ul>
<img src="chart.png" alt="A chart of two documents">
<pre><code>print("do not translate")</code></pre>
<script>var s = "The bank";</script>
<table><tr><td>Our team writes.</td><td>42</td></tr></table>
</body></html>"""


def test_html_markup_is_kept(translate):
    data, media, kind, count = translate_document(HTML.encode(), "page.html", translate)
    out = data.decode()
    assert kind == "html" and media.startswith("text/html") and out.startswith("<!DOCTYPE html>")
    src_tree, out_tree = lxml.html.fromstring(HTML), lxml.html.fromstring(out)
    assert [e.tag for e in out_tree.iter()] == [e.tag for e in src_tree.iter()]
    assert [dict(e.attrib) for e in out_tree.iter() if e.tag not in ("img",)] == \
        [dict(e.attrib) for e in src_tree.iter() if e.tag not in ("img",)]
    assert out_tree.find(".//img").get("src") == "chart.png"
    assert out_tree.find(".//img").get("alt") != "A chart of two documents"
    assert 'print("do not translate")' in out and 'var s = "The bank";' in out and "p { color: red }" in out
    assert "ACME Bank" in out_tree.find(".//title").text
    assert out_tree.find(".//h1").text != "The bank sends the statement."
    assert out_tree.find(".//a").get("href") == "https://example.org/x?a=1"
    assert out_tree.findall(".//td")[1].text == "42"


MARKDOWN = """# The bank sends the statement

Intro paragraph with `inline code` and a [link](https://example.org/docs) to ACME Bank.

- first item in the list
- second item
  1. nested numbered item

> A quoted sentence from the teacher.

```python
print("The bank")  # code stays
```

| Name | Amount |
|------|-------:|
| The customer | 12.50 |
"""


def test_markdown_structure_is_kept(translate):
    data, media, kind, count = translate_document(MARKDOWN.encode(), "notes.md", translate)
    out = data.decode()
    src_lines, out_lines = MARKDOWN.splitlines(), out.splitlines()
    assert kind == "md" and len(out_lines) == len(src_lines)
    for a, b in zip(src_lines, out_lines):
        for mark in ("# ", "- ", "  1. ", "> ", "|"):
            if a.startswith(mark):
                assert b.startswith(mark), (a, b)
        if not a.strip():
            assert not b.strip()
    assert out_lines[0] != src_lines[0]
    assert "`inline code`" in out_lines[2] and "](https://example.org/docs)" in out_lines[2]
    assert "ACME Bank" in out_lines[2]
    code = MARKDOWN.split("```")[1]
    assert code in out  # fenced code untouched
    assert out_lines[-2] == "|------|-------:|" and out_lines[-1].count("|") == src_lines[-1].count("|") and "12.50" in out_lines[-1]


def test_text_file_keeps_lines_and_bom(translate):
    src = "\ufeffFirst line.\n\n  - a list item\nLast line."
    data, media, kind, _ = translate_document(src.encode("utf-8"), "a.txt", translate)
    out = data.decode("utf-8")
    assert out.startswith("\ufeff") and out.count("\n") == 3 and out.split("\n")[2].startswith("  - ")


@pytest.mark.parametrize("data, name, code", [
    (b"%PDF-1.7 binary", "a.pdf", "unsupported_document"),
    (b"not a zip", "a.docx", "invalid_document"),
    (b"PK\x03\x04garbage", "a.docx", "invalid_document"),
    (b"\xff\xfe\x00bad", "a.txt", "invalid_document"),
    (b"caf\xe9 latin-1", "a.txt", "invalid_encoding"),
])
def test_bad_documents(translate, data, name, code):
    with pytest.raises(InvalidInput) as err:
        translate_document(data, name, translate)
    assert err.value.code == code
