"""Work per request is bounded before it starts: rendered area, instances, request size."""

import base64
import io
import time

import httpx
import pytest
from reportlab.pdfgen import canvas

from conftest import predict, start_server
from vlm_service.synth import make_statement, render_pdf


def huge_blank_pdf(pages: int, side_pt: float) -> bytes:
    """A tiny file of big empty pages: costly to render, nothing to read."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(side_pt, side_pt))
    for _ in range(pages):
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    proc = start_server(tmp_path_factory.mktemp("vlm-limits"), "vlm-limits", VLM_MAX_PAGES="50",
                        VLM_MAX_RENDER_MEGAPIXELS="100", VLM_MAX_INSTANCES="3", VLM_MAX_REQUEST_MB="4",
                        VLM_MAX_IMAGE_PIXELS="40000000")
    yield proc
    proc.stop()


def test_render_area_is_checked_before_rendering(limited):
    data = huge_blank_pdf(50, 5000)  # 50 pages of 5000x5000 pt: ~2000 megapixels at 200 dpi
    assert len(data) < 30_000
    r = predict(limited.url, data, timeout=30)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "render_too_large"
    assert "VLM_MAX_RENDER_MEGAPIXELS" in r.json()["error"]
    assert r.elapsed.total_seconds() < 5  # refused, not rendered
    # a statement within the budget is still read
    stmt = make_statement("multipage", 4)
    r = predict(limited.url, render_pdf(stmt))
    assert r.status_code == 200 and r.json()["predictions"][0]["transactions"]


def test_too_many_documents_in_one_request(limited):
    doc = base64.b64encode(render_pdf(make_statement("debit_credit", 1))).decode()
    body = {"instances": [{"document": {"b64": doc}}] * 4}
    r = httpx.post(f"{limited.url}/v1/models/vlm:predict", json=body, timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "too_many_instances"


def test_oversized_request_is_413_and_health_stays_up(limited):
    big = base64.b64encode(b"%PDF-1.7\n" + bytes(5 * 1024 * 1024)).decode()
    r = httpx.post(f"{limited.url}/v1/models/vlm:predict", json={"instances": [{"document": {"b64": big}}]},
                   timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"
    assert httpx.get(f"{limited.url}/v2/health/ready", timeout=5).status_code == 200


def test_work_stops_between_pages_when_the_caller_goes(limited):
    from vlm_service.synth import scan_pdf

    scan = scan_pdf(render_pdf(make_statement("multipage", 7, n=120)), seed=4)  # several pages of OCR
    extracted_before = limited.log_text().count("extracted ")
    t0 = time.monotonic()
    try:
        predict(limited.url, scan, timeout=1.5)
    except httpx.TimeoutException:
        pass
    while "client_closed_request" not in limited.log_text() and time.monotonic() - t0 < 30:
        time.sleep(0.2)
    stopped = time.monotonic() - t0
    print(f"scan of a gone caller stopped {stopped:.1f} s after the request")
    assert "client disconnected before the response" in limited.log_text()
    assert "client_closed_request" in limited.log_text()
    assert limited.log_text().count("extracted ") == extracted_before  # never finished
    assert httpx.get(f"{limited.url}/v2/health/ready", timeout=5).status_code == 200
