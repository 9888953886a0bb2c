"""Page images (pages.py): which documents are kept, and when they go (files on a real disk)."""

import os
import time
from types import SimpleNamespace

from gateway.pages import DOCUMENT, PageImages
from gateway.settings import Settings


def pages(tmp_path, **kw) -> PageImages:
    return PageImages(SimpleNamespace(settings=Settings(data_dir=tmp_path, **kw)))


def upload(tmp_path, job_id: str) -> str:
    d = tmp_path / "uploads" / job_id
    d.mkdir(parents=True)
    (d / "upload.bin").write_bytes(b"%PDF-1.7 ...")
    return str(d / "upload.bin")


def test_a_statement_jobs_document_is_kept_others_are_not(tmp_path):
    p = pages(tmp_path)
    stmt = SimpleNamespace(id="a" * 32, upload_path=upload(tmp_path, "a" * 32), request={"op": "statement"})
    audio = SimpleNamespace(id="b" * 32, upload_path=upload(tmp_path, "b" * 32), request={"op": "transcription"})
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
