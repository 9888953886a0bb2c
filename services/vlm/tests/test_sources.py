"""Where a page is read from (text layer, OCR, VLM), the date_order option, and the VLM path's
acceptance rule: its rows are kept only when they reconcile."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from pagebuilder import R, make_page
from textkeys import fold

from vlm_service.pipeline import Pipeline, parse_request
from vlm_service.settings import Settings
from vlm_service.synth import make_statement, render_pdf, scan_images
from vlm_service.textquality import assess
from vlm_service.vlm import VLMRow, extract_prompt


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline(Settings(_env_file=None))


def test_ymd_is_kept_not_mapped_to_auto(pipeline):
    assert parse_request({"date_order": "YMD"}).date_order == "YMD"
    assert parse_request({"date_order": "auto"}).date_order is None
    stmt = make_statement("signed_amount", 0, n=4)
    from vlm_service.synth import LAYOUTS

    layout = LAYOUTS["signed_amount"]
    old = layout.date_fmt
    layout.date_fmt = lambda d: f"{d.year % 100:02d}/{d.month:02d}/{d.day:02d}"  # YY/MM/DD
    try:
        pdf = render_pdf(stmt)
    finally:
        layout.date_fmt = old
    result = pipeline.run(pdf, {"date_order": "YMD"})
    assert [t["date"] for t in result["transactions"]] == [t.date.isoformat() for t in stmt.transactions]
    assert result["checks"]["reading"]["date_order"] == "YMD"


def test_text_quality_scores():
    clean = make_page([[(40, "02/03/2024"), (120, "Card payment TESCO"), (450, R("-10.00"))]] * 5)
    poor = make_page([[(40, "O2/O3/2O24"), (120, "Card pa|ment T3SC0"), (300, "~"), (450, R("-1O.0O"))]] * 5)
    garbled = make_page([[(40, "\ue001\ue002\ue003 \ue004\ue005"), (200, "\ufffd\ufffd abc")]] * 5)
    assert assess(clean).usable and assess(clean).score > 0.97
    assert not assess(poor).usable and "OCR" in assess(poor).reason
    assert not assess(garbled).usable and "garbled" in assess(garbled).reason


def _scan_with_poor_ocr_layer(stmt) -> bytes:
    """A scanned page (image) over an invisible text layer of a bad OCR: O for 0, l for 1."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = scan_images(render_pdf(stmt), seed=1, dpi=150)[0]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    w, h = A4
    c.drawImage(ImageReader(image), 0, 0, w, h)
    text = c.beginText()
    text.setTextRenderMode(3)  # invisible, as OCR layers are
    text.setFont("Helvetica", 10)
    y = h - 240
    for t in stmt.transactions:
        line = f"{t.date:%d/%m/%Y} {t.description} {t.amount} {t.balance}"
        text.setTextOrigin(40, y)
        text.textLine(line.replace("0", "O").replace("1", "l").replace(" ", " | ", 2))
        y -= 14
    c.drawText(text)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_poor_ocr_text_layer_is_ocrd_again(pipeline):
    stmt = make_statement("signed_amount", 5, n=8)
    result = pipeline.run(_scan_with_poor_ocr_layer(stmt), {})
    assert result["page_info"][0]["source"] == "ocr"
    got = {(t["date"], t["amount"]) for t in result["transactions"]}
    want = {(t.date.isoformat(), str(t.amount)) for t in stmt.transactions}
    assert len(got & want) >= 0.9 * len(want)
    assert all(t["source"] == "ocr" for t in result["transactions"])


def test_rows_have_boxes_that_hold_their_words(pipeline):
    import pypdfium2 as pdfium

    stmt = make_statement("multiline", 0)
    pdf = render_pdf(stmt)
    result = pipeline.run(pdf, {})
    doc = pdfium.PdfDocument(pdf)
    try:
        for t in result["transactions"][:6]:
            x0, top, x1, bottom = t["bbox"]
            page = doc[t["page"] - 1]
            height = page.get_size()[1]
            tp = page.get_textpage()
            inside = tp.get_text_bounded(left=x0 - 1, bottom=height - bottom - 1, right=x1 + 1, top=height - top + 1)
            tp.close()
            assert all(fold(w) in fold(inside) for w in t["description"].split())
            assert t["amount"].lstrip("-").split(".")[0][-2:] in inside
    finally:
        doc.close()


class ScriptedVLM:
    """Stands in for a GPU VLM (unreachable here): returns given rows, records the prompt's words."""

    def __init__(self, rows):
        self.rows, self.words = rows, []

    def extract_rows(self, image, order, period=None, default_year=None, words=""):
        self.words.append(words)
        return self.rows


def _broken_statement():
    stmt = make_statement("signed_amount", 3, n=6)
    stmt.transactions[2].balance += 1  # misprinted: no reading reconciles
    return stmt


def test_vlm_rows_that_reconcile_replace_the_page():
    stmt = _broken_statement()
    rows = [VLMRow(t.date, t.description, t.amount, t.balance) for t in stmt.transactions]
    rows[2].balance -= 1  # the VLM read the balance the printer meant
    vlm = ScriptedVLM(rows)
    pipe = Pipeline(Settings(_env_file=None), vlm=vlm)
    result = pipe.run(render_pdf(stmt), {})
    assert vlm.words and stmt.transactions[0].description.split()[0] in vlm.words[0]  # words in the prompt
    assert result["vlm"]["used"] and result["page_info"][0]["source"] == "vlm"
    assert result["checks"]["reconciled"] and all(t["source"] == "vlm" for t in result["transactions"])
    assert all(t["bbox"] and t["bbox"][1] > 150 for t in result["transactions"])  # located on the page
    assert "vlm_fallback_used" in [p["code"] for p in result["checks"]["problems"]]


def test_vlm_rows_that_do_not_reconcile_are_rejected():
    stmt = _broken_statement()
    rows = [VLMRow(t.date, t.description, t.amount + D("1.00"), t.balance) for t in stmt.transactions]
    pipe = Pipeline(Settings(_env_file=None), vlm=ScriptedVLM(rows))
    result = pipe.run(render_pdf(stmt), {})
    assert result["page_info"][0]["source"] == "text" and not result["checks"]["reconciled"]
    assert [t["amount"] for t in result["transactions"]] == [str(t.amount) for t in stmt.transactions]
    assert "vlm_fallback_rejected" in [p["code"] for p in result["checks"]["problems"]]


def test_extract_prompt_carries_words_within_a_limit():
    assert "words already read" in extract_prompt("01/02 Coffee 3.50")
    assert len(extract_prompt("x" * 100000)) < 6000
    assert extract_prompt("") == extract_prompt("  ")


def test_card_statement_from_pdf_is_owed_negative(pipeline):
    """A card statement printed as card issuers do, through the whole pipeline."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica", 10)
    lines = [(40, 740, "Lakeview Card Services"), (330, 740, "Statement closing date 03/13/2025"),
             (40, 720, "Platinum Mastercard credit card"), (330, 720, "Payment due date 04/07/2025"),
             (40, 690, "Previous balance"), (40, 676, "New balance"), (40, 662, "Credit limit"),
             (40, 620, "Trans date"), (110, 620, "Post date"), (180, 620, "Description")]
    for x, y, s in lines:
        c.drawString(x, y, s)
    c.drawRightString(260, 690, "$1,200.00")
    c.drawRightString(260, 676, "$1,112.60")
    c.drawRightString(260, 662, "$5,000.00")
    c.drawRightString(560, 620, "Amount")
    rows = [("02/14", "02/15", "GROCERY MART #22", "64.10"), ("02/20", "02/21", "ONLINE PAYMENT THANK YOU", "500.00 CR"),
            ("03/01", "03/02", "AIRLINE TICKETS", "322.50"), ("03/10", "03/11", "INTEREST CHARGE", "26.00")]
    y = 604
    for a, b, d, amt in rows:
        c.drawString(40, y, a)
        c.drawString(110, y, b)
        c.drawString(180, y, d)
        c.drawRightString(560, y, amt)
        y -= 14
    c.showPage()
    c.save()
    result = pipeline.run(buf.getvalue(), {})
    assert result["statement"]["kind"] == "card"
    assert [(t["date"], t["amount"]) for t in result["transactions"]] == [
        ("2025-02-14", "-64.10"), ("2025-02-20", "500.00"), ("2025-03-01", "-322.50"), ("2025-03-10", "-26.00")]
    st = result["statement"]
    assert (st["opening_balance"], st["closing_balance"]) == ("-1200.00", "-1112.60")
    assert result["checks"]["reconciled"] and result["checks"]["confidence"] >= 0.95
    assert date.fromisoformat(result["transactions"][0]["date"]).year == 2025
