"""Page images (pages.py): which documents are kept and when they go (files on a real disk), and
GET /api/v1/jobs/{id}/pages/{n} over HTTP against the test upstream (its `task: render` answer);
against the real vlm-service: tests/e2e/test_statement_pages.py."""

import os
import struct
import time
from types import SimpleNamespace

from conftest import ADMIN_KEY, STMT_KEY, TRANS_KEY, GatewayProcess, default_routes, make_wav
from gateway.pages import DOCUMENT, PageImages
from gateway.settings import Settings


def pages(tmp_path, **kw) -> PageImages:
    return PageImages(Settings(data_dir=tmp_path, **kw))


def upload(tmp_path, job_id: str) -> str:
    d = tmp_path / "uploads" / job_id
    d.mkdir(parents=True)
    (d / "upload.bin").write_bytes(b"%PDF-1.7 ...")
    return str(d / "upload.bin")


def test_a_statement_jobs_document_is_kept_others_are_not(tmp_path):
    p = pages(tmp_path)
    stmt = SimpleNamespace(id="a" * 32, upload_path=upload(tmp_path, "a" * 32),
                           request={"op": "statement", "route": "vlm", "options": {}, "format": "json"})
    audio = SimpleNamespace(id="b" * 32, upload_path=upload(tmp_path, "b" * 32),
                            request={"op": "transcription", "route": "audio"})
    p.keep(stmt)
    p.keep(audio)
    assert (p.dir(stmt.id) / DOCUMENT).read_bytes() == b"%PDF-1.7 ..."
    assert not os.path.exists(stmt.upload_path)
    assert not p.dir(audio.id).exists() and os.path.exists(audio.upload_path)
    assert oct(p.dir(stmt.id).stat().st_mode & 0o777) == "0o700"


def test_documents_and_images_go_after_the_retention(tmp_path):
    p = pages(tmp_path, page_retention_s=3600)
    for job_id, age in (("old", 7200), ("new", 60)):
        d = p.dir(job_id)
        d.mkdir(parents=True)
        (d / DOCUMENT).write_bytes(b"doc")
        (d / "p1-w1200.png").write_bytes(b"png")
        t = time.time() - age
        os.utime(d / DOCUMENT, (t, t))
    stray = p.dir("stray")
    stray.mkdir()  # images left without their document
    os.utime(stray, (time.time() - 120, time.time() - 120))
    p.dir("being-kept").mkdir()  # keep() is moving its document in
    assert p.expire() == 2
    assert sorted(x.name for x in p.settings.pages_dir.iterdir()) == ["being-kept", "new"]
    assert p.expire() == 0


def test_widths_are_rounded_up_and_capped():
    assert [PageImages.snap(w, 2000) for w in (100, 101, 750, 800, 1999, 4000)] == [100, 200, 800, 800, 2000, 2000]


# ---------------------------------------------------------------- over HTTP (gateway + test upstream)

PDF = b"%PDF-1.7\n% a statement\n"


def wait(c, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def submit_statement(c, **data) -> str:
    r = c.post("/api/v1/statements", params={"async": "true"}, files={"file": ("s.pdf", PDF, "application/pdf")},
               data=data)
    assert r.status_code == 202, r.text
    return r.json()["job"]["id"]


def test_a_statement_jobs_pages_are_rendered_once_and_only_for_its_key(gateway_sqlite, upstreams):
    gw, up = gateway_sqlite, upstreams["vlm"]
    with gw.client(STMT_KEY) as c, gw.client(ADMIN_KEY) as other:
        job_id = submit_statement(c, password="s3cret")
        assert wait(c, job_id)["state"] == "succeeded"
        kept = gw.data_dir / "pages" / job_id / "document.bin"
        assert kept.read_bytes() == PDF and not (gw.data_dir / "uploads" / job_id).exists()
        r = c.get(f"/api/v1/jobs/{job_id}/pages/1", params={"width": 640})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.headers["x-cache"] == "miss"
        assert struct.unpack(">II", r.content[16:24])[0] == 700  # rounded up to a multiple of 100
        sent = up.last()["last"]["instance"]
        assert (sent["task"], sent["page"], sent["width"], sent["password"]) == ("render", 1, 700, "s3cret")
        calls = up.control()["calls"]
        again = c.get(f"/api/v1/jobs/{job_id}/pages/1", params={"width": 700})
        assert again.headers["x-cache"] == "hit" and again.content == r.content
        assert up.control()["calls"] == calls  # served from the cache
        assert other.get(f"/api/v1/jobs/{job_id}/pages/1").json()["error"]["code"] == "job_not_found"
        r = c.get(f"/api/v1/jobs/{job_id}/pages/2")  # the test upstream's result has one page
        assert r.status_code == 404 and r.json()["error"]["code"] == "page_not_found"


def test_pages_of_unfinished_and_non_statement_jobs(gateway_sqlite, upstreams):
    gw = gateway_sqlite
    with gw.client(TRANS_KEY) as t:
        r = t.post("/api/v1/transcriptions", params={"async": "true"},
                   files={"file": ("a.wav", make_wav(0.2), "audio/wav")})
        job_id = r.json()["job"]["id"]
        wait(t, job_id)
        r = t.get(f"/api/v1/jobs/{job_id}/pages/1")
        assert r.status_code == 404 and r.json()["error"]["code"] == "pages_not_found"
    upstreams["vlm"].control(delay=3)
    try:
        with gw.client(STMT_KEY) as c:
            job_id = submit_statement(c)
            r = c.get(f"/api/v1/jobs/{job_id}/pages/1")
            assert r.status_code == 409 and r.json()["error"]["code"] == "job_not_finished"
    finally:
        upstreams["vlm"].control(delay=0)


def test_an_upstream_failure_is_clear_and_not_cached(gateway_sqlite, upstreams):
    gw = gateway_sqlite
    with gw.client(STMT_KEY) as c:
        job_id = submit_statement(c)
        wait(c, job_id)
        upstreams["vlm"].control(fail_status=503)
        try:
            r = c.get(f"/api/v1/jobs/{job_id}/pages/1")
            assert r.status_code == 503 and "retry-after" in r.headers
        finally:
            upstreams["vlm"].control(fail_status=None)
        time.sleep(1.6)  # the breaker's reset (FAST_ENV)
        r = c.get(f"/api/v1/jobs/{job_id}/pages/1")
        assert r.status_code == 200 and r.headers["x-cache"] == "miss"


def test_page_images_are_bounded_and_expire(tmp_path, sqlite_url, upstreams):
    env = {"GATEWAY_PAGE_RETENTION_S": "2", "GATEWAY_PAGE_IMAGE_MAX_WIDTH": "800",
           "GATEWAY_PAGE_IMAGE_MAX_MB": "0.002"}
    with GatewayProcess(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", default_routes(upstreams), env) as gw, \
            gw.client(STMT_KEY) as c:
        job_id = submit_statement(c)
        wait(c, job_id)
        small = c.get(f"/api/v1/jobs/{job_id}/pages/1", params={"width": 100})
        assert small.status_code == 200 and len(small.content) < 2048
        r = c.get(f"/api/v1/jobs/{job_id}/pages/1", params={"width": 4000})  # capped at 800, still over 2 KB
        assert r.status_code == 413 and r.json()["error"]["code"] == "page_image_too_large"
        assert upstreams["vlm"].last()["last"]["instance"]["width"] == 800
        deadline = time.monotonic() + 15
        while (gw.data_dir / "pages" / job_id).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        r = c.get(f"/api/v1/jobs/{job_id}/pages/1", params={"width": 100})
        assert r.status_code == 410 and r.json()["error"]["code"] == "pages_expired"
