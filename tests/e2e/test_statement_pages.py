"""Issue 18: a statement job's page images through the gateway (GET /api/v1/jobs/{id}/pages/{n}),
rendered by the real vlm-service: scoped to the job's key, bounded, cached."""

from __future__ import annotations

import re
import struct
import time

import httpx
from contract import conforms


def client(gateway, key: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=300)


def finished_job(c: httpx.Client, pdf: bytes) -> dict:
    r = c.post("/api/v1/statements", params={"async": "true"}, files={"file": ("s.pdf", pdf, "application/pdf")})
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            assert job["state"] == "succeeded", job
            conforms(job, "JobDetail")
            conforms(job["result"], "StatementResult")  # rows with bbox, page_info from the real service
            return job
        time.sleep(0.3)
    raise AssertionError("the statement job did not finish")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def renders(vlm_service) -> float:
    text = httpx.get(f"{vlm_service.url}/metrics").text
    m = re.search(r'aip_inference_seconds_count\{model="vlm",stage="render"\} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def test_page_image_of_a_statement_job(gateway, keys, vlm_service, statement_pdf):
    pdf, _ = statement_pdf
    with client(gateway, keys["statements"]) as c:
        job = finished_job(c, pdf)
        result = job["result"]
        before = renders(vlm_service)
        r = c.get(f"/api/v1/jobs/{job['id']}/pages/1", params={"width": 750})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/png" and r.headers["x-cache"] == "miss"
        assert "private" in r.headers["cache-control"]
        width, height = png_size(r.content)
        info = result["page_info"][0]
        assert width == 800  # rounded up to a multiple of 100
        assert abs(height / width - info["height"] / info["width"]) < 0.01
        # every row's box fits on the picture (that the box is over the row's ink: vlm tests/test_boxes.py)
        f = width / info["width"]
        for t in result["transactions"]:
            x0, top, x1, bottom = (v * f for v in t["bbox"])
            assert 0 <= x0 < x1 <= width and 0 <= top < bottom <= height, t
        again = c.get(f"/api/v1/jobs/{job['id']}/pages/1", params={"width": 800})
        assert again.status_code == 200 and again.headers["x-cache"] == "hit" and again.content == r.content
        assert renders(vlm_service) == before + 1  # the second came from the gateway's cache


def test_page_images_are_the_owners_only_and_bounded(gateway, keys, vlm_service, statement_pdf):
    pdf, _ = statement_pdf
    with client(gateway, keys["statements"]) as owner, client(gateway, keys["all"]) as other, \
            httpx.Client(base_url=gateway.url) as anonymous:
        job = finished_job(owner, pdf)
        url = f"/api/v1/jobs/{job['id']}/pages/1"
        r = other.get(url)  # another key, even one with every scope, does not see it exists
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"
        assert anonymous.get(url).status_code == 401
        assert owner.get(f"/api/v1/jobs/{'0' * 32}/pages/1").status_code == 404
        r = owner.get(f"/api/v1/jobs/{job['id']}/pages/2")
        assert r.status_code == 404 and r.json()["error"]["code"] == "page_not_found"
        for bad in ({"width": 50}, {"width": 100_000}, {"width": "wide"}):
            r = owner.get(url, params=bad)
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad
        assert owner.get(f"/api/v1/jobs/{job['id']}/pages/0").status_code == 422
        # the widest image is capped (GATEWAY_PAGE_IMAGE_MAX_WIDTH and the page at the OCR resolution)
        big = owner.get(url, params={"width": 4000})
        assert big.status_code == 200
        assert png_size(big.content)[0] <= 2000
        # a synchronous request keeps nothing: there is no job to ask
        assert owner.post("/api/v1/statements", files={"file": ("s.pdf", pdf, "application/pdf")}).status_code == 200
        assert owner.get("/api/v1/jobs", params={"limit": 1}).json()["jobs"][0]["id"] == job["id"]
