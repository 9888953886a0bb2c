"""Issue 18: where each row was read (`page` + `bbox`) and `task: render` (the page image the
boxes are drawn on), over the running service. The judge of a box is the PDF's own text layer
(pypdfium2's character boxes), not the parser that made it."""

import base64
import io

import pypdfium2 as pdfium
import pytest
from PIL import Image

from conftest import predict
from vlm_service.synth import make_statement, render_pdf, scan_pdf

SLACK = 1.0  # points: pdfium's loose char boxes against the parser's word boxes


def word_boxes(pdf: bytes) -> list[list[tuple[str, tuple[float, float, float, float]]]]:
    """Per page, every word of the text layer with its box in top-down page points."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for page in doc:
            height = page.get_height()
            text = page.get_textpage()
            words, cur, box = [], "", None
            for i in range(text.count_chars()):
                ch = text.get_text_range(i, 1)
                if ch.isspace() or not ch:
                    if cur:
                        words.append((cur, box))
                    cur, box = "", None
                    continue
                x0, y0, x1, y1 = text.get_charbox(i, loose=False)
                b = (x0, height - y1, x1, height - y0)
                box = b if box is None else (min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3]))
                cur += ch
            if cur:
                words.append((cur, box))
            pages.append(words)
            text.close()
            page.close()
    finally:
        doc.close()
    return pages


def inside(word: tuple[float, float, float, float], bbox: list[float], slack: float) -> bool:
    return (word[0] >= bbox[0] - slack and word[2] <= bbox[2] + slack
            and word[1] >= bbox[1] - slack and word[3] <= bbox[3] + slack)


def centre_inside(word: tuple[float, float, float, float], bbox: list[float], slack: float) -> bool:
    cx, cy = (word[0] + word[2]) / 2, (word[1] + word[3]) / 2
    return bbox[0] - slack <= cx <= bbox[2] + slack and bbox[1] - slack <= cy <= bbox[3] + slack


def assert_boxes_hold_their_words(result: dict, layer: list, slack: float, test=inside) -> int:
    """Every row has a page and a box; every word of its description lies in the box on the
    text layer; no two rows' boxes share a line. Returns the number of words checked."""
    checked = 0
    rows = result["transactions"]
    assert rows
    for t in rows:
        assert 1 <= t["page"] <= result["pages"] and t["bbox"] and len(t["bbox"]) == 4, t
        x0, top, x1, bottom = t["bbox"]
        info = result["page_info"][t["page"] - 1]
        assert 0 <= x0 < x1 <= info["width"] + SLACK and 0 <= top < bottom <= info["height"] + SLACK, t
        for word in t["description"].split():
            if "*" in word:  # masked digits are not printed as such
                continue
            found = [box for text, box in layer[t["page"] - 1] if text == word]
            assert found, f"{word!r} is not on page {t['page']}"
            assert any(test(box, t["bbox"], slack) for box in found), (word, t["bbox"], found)
            checked += 1
    for a, b in zip(rows, rows[1:]):  # one box per printed row, in reading order
        if a["page"] == b["page"]:
            assert a["bbox"][3] <= b["bbox"][1] + SLACK, (a, b)
    return checked


@pytest.mark.parametrize(("layout", "seed"), [("signed_amount", 1), ("debit_credit", 2), ("european", 3),
                                              ("multiline", 4), ("no_balance", 5), ("multipage", 6)])
def test_every_text_layer_box_holds_its_rows_words(server, layout, seed):
    pdf = render_pdf(make_statement(layout, seed))
    resp = predict(server.url, pdf)
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert {p["source"] for p in result["page_info"]} == {"text"}
    assert all(t["source"] == "text" for t in result["transactions"])
    assert assert_boxes_hold_their_words(result, word_boxes(pdf), SLACK) >= 2 * len(result["transactions"])


def test_ocr_boxes_hold_the_rows_words_of_the_original(server):
    """A scan has no text layer: its rows' boxes (OCR, converted to points) are judged against the
    text layer of the PDF it was printed from, by the centre of each word."""
    pdf = render_pdf(make_statement("signed_amount", 8, 10))
    resp = predict(server.url, scan_pdf(pdf, 8))
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["page_info"][0]["source"] == "ocr" and result["page_info"][0]["units"] == "pt"
    assert all(t["source"] == "ocr" for t in result["transactions"])
    layer = word_boxes(pdf)
    total = found = 0
    for t in result["transactions"]:
        assert t["page"] == 1 and t["bbox"], t
        for word in t["description"].split():
            hits = [box for text, box in layer[0] if text == word]
            if hits:  # OCR may misread a word; those that it read must be where they are printed
                total += 1
                found += any(centre_inside(box, t["bbox"], 3.0) for box in hits)
    assert total >= 2 * len(result["transactions"]) and found / total >= 0.95, (found, total)


def test_every_row_says_how_it_was_checked(server):
    checked = predict(server.url, render_pdf(make_statement("signed_amount", 2, 8))).json()["predictions"][0]
    assert [t["check"] for t in checked["transactions"]] == ["verified"] * 8
    unchecked = predict(server.url, render_pdf(make_statement("no_balance", 2, 8))).json()["predictions"][0]
    assert [t["check"] for t in unchecked["transactions"]] == ["not_checkable"] * 8
    assert unchecked["checks"]["reconciled"] is True  # the totals hold; no row could be checked


def test_a_tampered_row_fails_and_the_others_stay_verified(server):
    stmt = make_statement("signed_amount", 4, 8)
    stmt.transactions[3].amount -= 10  # printed amount no longer matches the printed balances
    result = predict(server.url, render_pdf(stmt)).json()["predictions"][0]
    states = [t["check"] for t in result["transactions"]]
    assert states[3] == "failed" and result["transactions"][3]["problem"]
    assert states.count("failed") == 1 and states.count("verified") == 7
    assert any(p["code"] == "balance_mismatch" and p["row"] == 4 for p in result["checks"]["problems"])


def test_render_returns_the_page_the_boxes_are_on(server):
    pdf = render_pdf(make_statement("multipage", 1))
    resp = predict(server.url, pdf, task="render", page=2, width=600)
    assert resp.status_code == 200, resp.text
    out = resp.json()["predictions"][0]
    image = Image.open(io.BytesIO(base64.b64decode(out["image"]["b64"])))
    assert image.format == "PNG" and image.size == (out["width"], out["height"]) and out["width"] == 600
    assert out["media_type"] == "image/png" and out["page"] == 2 and out["pages"] >= 2 and out["units"] == "pt"
    assert abs(out["height"] / out["width"] - out["page_height"] / out["page_width"]) < 0.01
    # a printed row is dark ink where its box says
    result = predict(server.url, pdf).json()["predictions"][0]
    row = next(t for t in result["transactions"] if t["page"] == 2)
    f = out["width"] / out["page_width"]
    crop = image.convert("L").crop(tuple(round(v * f) for v in row["bbox"]))
    assert crop.getextrema()[0] < 100
    blank = image.convert("L").crop((0, round(row["bbox"][1] * f) - 4, round(row["bbox"][0] * f) - 4,
                                     round(row["bbox"][3] * f)))
    assert blank.getextrema()[0] > 200  # the margin left of the box is empty


@pytest.mark.parametrize("options", [{"width": 50}, {"width": 5000}, {"width": "wide"}, {"page": 99}])
def test_render_refuses_bad_options(server, options):
    resp = predict(server.url, render_pdf(make_statement("signed_amount", 1)), task="render", **options)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "invalid_option"
    assert predict(server.url, render_pdf(make_statement("signed_amount", 1)), task="render").status_code == 200


def test_render_of_an_image_is_never_upscaled(server):
    img = Image.new("RGB", (400, 300), "white")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    out = predict(server.url, buf.getvalue(), task="render", width=1200).json()["predictions"][0]
    assert (out["width"], out["height"], out["units"]) == (400, 300, "px")
