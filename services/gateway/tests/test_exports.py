"""Exports (issue 15): every format of a transcription or a statement comes from the gateway,
the same bytes whether asked of the synchronous call or of a finished job's `/result`, and a
text export is a named download (`Content-Disposition`) after the uploaded file."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import make_png, make_wav
from test_jobs import wait_job

TRANSCRIPT_EXPORTS = [("text", "text/plain", "talk.txt"), ("srt", "application/x-subrip", "talk.srt"),
                      ("vtt", "text/vtt", "talk.vtt"), ("json", "application/json", None),
                      ("verbose_json", "application/json", None)]


def _job(c, path: str, files: dict, data: dict | None = None) -> str:
    r = c.post(path, files=files, data=data or {}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    job = wait_job(c, r.json()["job"]["id"])
    assert job["state"] == "succeeded", job
    return job["id"]


@pytest.fixture(scope="module")
def transcription_job(gateway_sqlite) -> str:
    with gateway_sqlite.client() as c:
        return _job(c, "/api/v1/transcriptions", {"file": ("talk.wav", make_wav(0.2), "audio/wav")})


@pytest.mark.parametrize("fmt,media,filename", TRANSCRIPT_EXPORTS)
def test_a_transcription_job_answers_each_format_as_the_synchronous_call(gateway_sqlite, transcription_job,
                                                                          fmt, media, filename):
    with gateway_sqlite.client() as c:
        sync = c.post("/api/v1/transcriptions", files={"file": ("talk.wav", make_wav(0.2), "audio/wav")},
                      data={"response_format": fmt})
        later = c.get(f"/api/v1/jobs/{transcription_job}/result", params={"format": fmt})
    for r in (sync, later):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        assert r.headers.get("content-disposition") == (f'attachment; filename="{filename}"' if filename else None)
    if media == "application/json":
        assert later.json() == sync.json()
    else:
        assert later.content == sync.content
    if fmt == "srt":
        assert later.text == ("1\n00:00:00,000 --> 00:00:01,000\nhello world\n\n"
                              "2\n00:00:01,000 --> 01:02:03,500\nsecond segment\n")
    if fmt == "vtt":
        assert later.text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello world\n\n")


def test_a_statement_job_answers_csv_and_json_as_the_synchronous_call(gateway_sqlite):
    files = {"file": ("March statement.png", make_png(), "image/png")}
    with gateway_sqlite.client() as c:
        job_id = _job(c, "/api/v1/statements", files)
        sync = {fmt: c.post("/api/v1/statements", files=files, data={"format": fmt}) for fmt in ("csv", "json")}
        later = {fmt: c.get(f"/api/v1/jobs/{job_id}/result", params={"format": fmt}) for fmt in ("csv", "json")}
        plain = c.get(f"/api/v1/jobs/{job_id}/result")
    for r in (sync["csv"], later["csv"]):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"] == 'attachment; filename="March statement.csv"'
    assert later["csv"].content == sync["csv"].content
    rows = list(csv.reader(io.StringIO(later["csv"].text, newline="")))
    assert rows[0][:3] == ["date", "description", "amount"] and len(rows) >= 2
    for r in (sync["json"], later["json"], plain):
        assert r.status_code == 200 and "content-disposition" not in r.headers
    assert later["json"].json() == plain.json() and later["json"].json()["transactions"] == sync["json"].json()["transactions"]


def test_a_job_stored_as_text_downloads_under_its_name_and_refuses_other_formats(gateway_sqlite):
    with gateway_sqlite.client() as c:
        job_id = _job(c, "/api/v1/transcriptions", {"file": ("Öffentlich «talk».wav", make_wav(0.2), "audio/wav")},
                      {"response_format": "srt"})
        raw = c.get(f"/api/v1/jobs/{job_id}/result")
        same = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "srt"})
        other = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "vtt"})
        unknown = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "csv"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/x-subrip")
    assert raw.headers["content-disposition"] == (
        "attachment; filename=\"_ffentlich _talk_.srt\"; "
        "filename*=UTF-8''%C3%96ffentlich%20%C2%ABtalk%C2%BB.srt")
    assert same.content == raw.content and same.headers["content-disposition"] == raw.headers["content-disposition"]
    assert other.status_code == 409 and other.json()["error"]["code"] == "format_unavailable"
    assert unknown.status_code == 422 and "srt" in unknown.json()["error"]["message"]
    assert "content-disposition" not in other.headers


def test_an_upload_without_a_usable_name_exports_under_the_operation_name(gateway_sqlite):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/statements", files={"file": ("...", make_png(), "image/png")}, data={"format": "csv"})
        t = c.post("/api/v1/transcriptions", files={"file": ("/tmp/", make_wav(0.2), "audio/wav")},
                   data={"response_format": "vtt"})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="statement.csv"'
    assert t.status_code == 200 and t.headers["content-disposition"] == 'attachment; filename="transcript.vtt"'
