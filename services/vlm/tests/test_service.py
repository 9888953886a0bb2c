"""The running service over HTTP (v1 and v2): text PDFs, scans, images, and every kind of bad input."""

import base64
import io
import json

import httpx
import pypdfium2 as pdfium
import pytest
from PIL import Image

from conftest import predict
from textkeys import key
from vlm_service.synth import make_statement, render_pdf, scan_images, scan_pdf


def f1(result, truth):
    got = {key(t) for t in result["transactions"]}
    want = {key(t) for t in truth["transactions"]}
    tp = len(got & want)
    return 2 * tp / (len(got) + len(want)) if got or want else 1.0


def error_of(resp):
    body = resp.json()
    return body.get("code"), body.get("error")


def test_health_and_metadata(server):
    assert httpx.get(f"{server.url}/v2/health/live").status_code == 200
    assert httpx.get(f"{server.url}/v2/models/vlm/ready").status_code == 200


def test_text_pdf_v1_result_schema(server):
    stmt = make_statement("debit_credit", 7)
    truth = stmt.truth()
    resp = predict(server.url, render_pdf(stmt))
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert set(result) >= {"statement", "transactions", "checks", "pages", "vlm"}
    assert result["statement"] == truth["statement"]
    assert result["statement"]["account_number"] == "****" + stmt.account_number[-4:]
    assert result["pages"] == 1 and result["vlm"]["configured"] is False and "not configured" in result["vlm"]["message"]
    assert result["checks"]["running_balance_ok"] and result["checks"]["totals_reconcile"]
    first = result["transactions"][0]
    assert set(first) == {"date", "description", "amount", "balance", "type", "page", "row", "confidence",
                          "balance_ok", "check", "problem", "bbox", "source"}  # issue 10/18: where each row was read
    assert first["source"] == "text" and len(first["bbox"]) == 4
    assert result["page_info"][0]["source"] == "text" and result["checks"]["reconciled"] is True
    assert isinstance(first["amount"], str) and isinstance(first["balance"], str)
    assert first["type"] == ("debit" if first["amount"].startswith("-") else "credit")
    assert [key(t) for t in result["transactions"]] == [key(t) for t in truth["transactions"]]
    # the account number and statement contents stay out of the output and the logs
    assert stmt.account_number not in resp.text
    log = server.log_text()
    assert stmt.account_number not in log
    assert stmt.transactions[0].description not in log
    assert "extracted" in log


def test_v2_bytes_input_with_parameters(server):
    stmt = make_statement("european", 2)
    body = {"inputs": [{"name": "document", "shape": [1], "datatype": "BYTES",
                        "data": [base64.b64encode(render_pdf(stmt)).decode()]}],
            "parameters": {"locale": "de_DE"}}
    resp = httpx.post(f"{server.url}/v2/models/vlm/infer", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    out = resp.json()["outputs"][0]
    assert out["name"] == "result" and out["datatype"] == "BYTES"
    result = json.loads(out["data"][0])
    assert result["statement"]["currency"] == "EUR"
    assert [key(t) for t in result["transactions"]] == [key(t) for t in stmt.truth()["transactions"]]


def test_scanned_pdf_is_read_by_ocr(server):
    stmt = make_statement("debit_credit", 1)
    resp = predict(server.url, scan_pdf(render_pdf(stmt), seed=1))
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert f1(result, stmt.truth()) >= 0.9
    assert result["checks"]["totals_reconcile"]
    assert all(0 < t["confidence"] <= 1 for t in result["transactions"])


def test_jpeg_page_image(server):
    stmt = make_statement("parentheses", 1)
    buf = io.BytesIO()
    scan_images(render_pdf(stmt), seed=2)[0].save(buf, format="JPEG", quality=85)
    resp = predict(server.url, buf.getvalue())
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert f1(result, stmt.truth()) >= 0.9 and result["pages"] == 1


def test_multi_page_tiff(server):
    stmt = make_statement("multiline", 2)  # two pages
    pages = scan_images(render_pdf(stmt), seed=3, dpi=150)
    assert len(pages) == 2
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", compression="tiff_lzw", save_all=True, append_images=pages[1:])
    resp = predict(server.url, buf.getvalue())
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["pages"] == 2 and {t["page"] for t in result["transactions"]} == {1, 2}
    assert f1(result, stmt.truth()) >= 0.9


def test_mixed_pdf_text_and_scanned_pages(server):
    stmt = make_statement("multiline", 1)  # two pages
    text_pdf = render_pdf(stmt)
    scanned = pdfium.PdfDocument(scan_pdf(text_pdf, seed=5))
    mixed = pdfium.PdfDocument(text_pdf)
    mixed.del_page(1)
    mixed.import_pages(scanned, [1])
    buf = io.BytesIO()
    mixed.save(buf)
    resp = predict(server.url, buf.getvalue())
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["pages"] == 2 and {t["page"] for t in result["transactions"]} == {1, 2}
    assert f1(result, stmt.truth()) >= 0.9


def test_encrypted_pdf(server):
    stmt = make_statement("signed_amount", 5)
    pdf = render_pdf(stmt, password="s3cret")
    resp = predict(server.url, pdf)
    assert resp.status_code == 422 and error_of(resp)[0] == "password_required"
    assert "password" in error_of(resp)[1]
    resp = predict(server.url, pdf, password="wrong")
    assert resp.status_code == 422 and error_of(resp)[0] == "invalid_password"
    resp = predict(server.url, pdf, password="s3cret")
    assert resp.status_code == 200
    assert len(resp.json()["predictions"][0]["transactions"]) == len(stmt.transactions)


@pytest.mark.parametrize("data,status,code", [
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", 422, "invalid_pdf"),
    (b"just some text, not a document", 415, "unsupported_file_type"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 422, "invalid_image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, 422, "invalid_image"),
])
def test_bad_documents(server, data, status, code):
    resp = predict(server.url, data)
    assert resp.status_code == status, resp.text
    assert error_of(resp)[0] == code


def test_truncated_pdf(server):
    pdf = render_pdf(make_statement("signed_amount", 0))
    resp = predict(server.url, pdf[: len(pdf) // 3])
    assert resp.status_code == 422 and error_of(resp)[0] in ("invalid_pdf", "no_pages")


def test_empty_and_malformed_requests(server):
    url = f"{server.url}/v1/models/vlm:predict"
    resp = httpx.post(url, json={"instances": [{"document": {"b64": ""}}]})
    assert resp.status_code == 400 and error_of(resp)[0] == "empty_input"
    resp = httpx.post(url, json={"instances": [{"document": {"b64": "***not base64***"}}]})
    assert resp.status_code == 400 and error_of(resp)[0] == "invalid_base64"
    resp = predict(server.url, b"%PDF-1.4", task="summarise")
    assert resp.status_code == 400 and error_of(resp)[0] == "invalid_option"
    resp = predict(server.url, b"%PDF-1.4", date_order="YDM")
    assert resp.status_code == 400 and error_of(resp)[0] == "invalid_option"


def test_too_many_pages(server):
    stmt = make_statement("multipage", 0, n=260)  # ~7 pages; the test server allows 5
    resp = predict(server.url, render_pdf(stmt))
    assert resp.status_code == 413 and error_of(resp)[0] == "too_many_pages"


def test_decompression_bomb_and_huge_images(server):
    bomb = io.BytesIO()
    Image.new("1", (30000, 30000)).save(bomb, format="PNG")  # 900 Mpx in ~100 KB
    assert len(bomb.getvalue()) < 2_000_000
    resp = predict(server.url, bomb.getvalue())
    assert resp.status_code == 413 and error_of(resp)[0] == "image_too_large"
    huge = io.BytesIO()
    Image.new("L", (5000, 5000), 255).save(huge, format="PNG")  # over the 20 Mpx test limit
    resp = predict(server.url, huge.getvalue())
    assert resp.status_code == 413 and error_of(resp)[0] == "image_too_large"


def test_huge_pdf_page_render_is_limited(server):
    doc = pdfium.PdfDocument.new()
    doc.new_page(14400, 14400)  # 200 x 200 inches, no text: would need OCR at a huge size
    buf = io.BytesIO()
    doc.save(buf)
    resp = predict(server.url, buf.getvalue())
    assert resp.status_code == 413 and error_of(resp)[0] == "page_too_large"


def test_document_without_transaction_table(server):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i, line in enumerate(["Dear customer,", "Your new card is on its way.", "It will arrive within five",
                              "working days. Kind regards, Northfield Bank"]):
        c.drawString(72, 700 - 16 * i, line)
    c.showPage()
    c.save()
    resp = predict(server.url, buf.getvalue())
    assert resp.status_code == 200, resp.text
    result = resp.json()["predictions"][0]
    assert result["transactions"] == []
    assert result["checks"]["problems"][0]["code"] == "no_transaction_table"


def test_ask_without_vlm_says_not_configured(server):
    resp = predict(server.url, render_pdf(make_statement("signed_amount", 0)), task="ask",
                   question="What is the closing balance?")
    assert resp.status_code == 503 and error_of(resp)[0] == "vlm_not_configured"
    resp = predict(server.url, render_pdf(make_statement("signed_amount", 0)), task="ask")
    assert resp.status_code == 400 and error_of(resp)[0] == "missing_question"


def test_service_stays_up_after_bad_inputs(server):
    assert server.running
    assert httpx.get(f"{server.url}/v2/health/ready").status_code == 200
    resp = predict(server.url, render_pdf(make_statement("swiss", 1)))
    assert resp.status_code == 200 and resp.json()["predictions"][0]["checks"]["totals_reconcile"]
