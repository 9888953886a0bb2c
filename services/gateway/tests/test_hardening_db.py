"""Issue 9, on SQLite and PostgreSQL: request ids and file names that must not break (or leak
into) storage, the job result in another format (the web UI's CSV), date_order passed through,
permanent upstream errors that jobs do not retry, and per-route job gauges for autoscaling."""

from __future__ import annotations

import csv
import io
import re
import time

import httpx
from conftest import ADMIN_KEY, make_png, make_wav
from test_jobs import wait_job

LONG_ID = "r" * 9000


def _multipart(filename: bytes, data: bytes, ctype: bytes = b"audio/wav") -> tuple[bytes, str]:
    """A multipart body written by hand: clients such as httpx percent-encode control bytes in
    file names, a hostile client does not."""
    boundary = "gwtestboundary42"
    body = (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + filename + b"\"\r\nContent-Type: " + ctype + b"\r\n\r\n" + data + b"\r\n--" + boundary.encode()
            + b"--\r\n")
    return body, f"multipart/form-data; boundary={boundary}"


def test_long_request_id_is_replaced_and_async_submission_works(gateway, upstreams):
    with gateway.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.1), "audio/wav")},
                   headers={"Prefer": "respond-async", "x-request-id": LONG_ID})
        assert r.status_code == 202, r.text
        rid = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), rid  # a generated id, not a cut of the raw one
        assert wait_job(c, r.json()["job"]["id"])["state"] == "succeeded"
        assert upstreams["audio"].last()["last"]["headers"]["x-request-id"] == rid
        bad = c.post("/api/v1/echo", json={"a": 1}, headers={"x-request-id": "has space<script>"})
        assert bad.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])
        ok = c.post("/api/v1/echo", json={"a": 1}, headers={"x-request-id": "client-1.2:3_x"})
        assert ok.headers["x-request-id"] == "client-1.2:3_x"
    time.sleep(0.3)
    log = gateway.log_text()
    assert "r" * 200 not in log and "<script>" not in log
    assert "replaced an invalid x-request-id (9000 bytes)" in log


def test_file_names_with_nul_and_control_characters_are_cleaned(gateway):
    body, ctype = _multipart(b"talk\x00\x01\x1b[31m\x7f.wav", make_wav(0.1))
    with gateway.client() as c:
        r = c.post("/api/v1/transcriptions", content=body,
                   headers={"content-type": ctype, "Prefer": "respond-async"})
        assert r.status_code == 202, r.text
        job = wait_job(c, r.json()["job"]["id"])
        listed = c.get("/api/v1/jobs", params={"limit": 5}).json()["jobs"]
    assert job["state"] == "succeeded" and job["filename"] == "talk[31m.wav"
    assert job["id"] in [j["id"] for j in listed]


def test_job_result_in_csv_is_the_synchronous_csv(gateway):
    files = {"file": ("s.png", make_png(), "image/png")}
    with gateway.client() as c:
        sync_csv = c.post("/api/v1/statements", files=files, data={"format": "csv"})
        r = c.post("/api/v1/statements", files=files, headers={"Prefer": "respond-async"})
        job_id = r.json()["job"]["id"]
        assert wait_job(c, job_id)["state"] == "succeeded"
        as_csv = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "csv"})
        as_json = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "json"})
        wrong = c.get(f"/api/v1/jobs/{job_id}/result", params={"format": "srt"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content == sync_csv.content
    assert as_csv.content.endswith(b"\r\n") and b"\r\n" in as_csv.content[:-2]
    rows = list(csv.reader(io.StringIO(as_csv.text, newline="")))
    assert rows[1][1:3] == ['Coffee, "Bean" shop', "-12.00"]  # a negative amount stays a number
    assert as_json.json()["transactions"][0]["amount"] == "-12.00"
    assert wrong.status_code == 422 and "csv" in wrong.json()["error"]["message"]


def test_date_order_ymd_reaches_the_service_unchanged(gateway, upstreams):
    files = {"file": ("s.png", make_png(), "image/png")}
    with gateway.client() as c:
        r = c.post("/api/v1/statements", files=files, data={"date_order": "YMD"})
        assert r.status_code == 200 and r.json()["options"]["date_order"] == "YMD"
        a = c.post("/api/v1/statements", files=files, data={"date_order": "YMD"}, headers={"Prefer": "respond-async"})
        job = wait_job(c, a.json()["job"]["id"])
        assert job["result"]["options"]["date_order"] == "YMD"
        assert upstreams["vlm"].last()["last"]["instance"]["date_order"] == "YMD"
        bad = c.post("/api/v1/statements", files=files, data={"date_order": "YDM"})
    assert bad.status_code == 422


def test_permanent_upstream_errors_are_501_without_retry(gateway, upstreams):
    with gateway.client() as c:
        for body in ({"fail": 501}, {"fail": 503, "fail_code": "vlm_not_configured"}):
            r = c.post("/api/v1/echo", json=body)
            assert r.status_code == 501, r.text
            assert "retry-after" not in r.headers
            assert r.json()["error"]["code"] in ("error", "vlm_not_configured")
        for _ in range(4):  # more than GATEWAY_BREAKER_FAILURES: the upstream is alive, no breaker
            c.post("/api/v1/echo", json={"fail": 501})
        assert c.post("/api/v1/echo", json={"ok": 1}).status_code == 200
        a = c.post("/api/v1/echo", json={"fail": 503, "fail_code": "vlm_not_configured"},
                   headers={"Prefer": "respond-async"})
        job = wait_job(c, a.json()["job"]["id"])
    assert job["state"] == "failed" and job["attempts"] == 1, job  # not re-queued like a 503
    assert job["error"]["code"] == "vlm_not_configured"


def test_metrics_show_queued_and_running_jobs_per_route(gateway, upstreams):
    upstreams["echo"].control(delay=1.5)
    with gateway.client() as c:
        ids = [c.post("/api/v1/echo", json={"n": i}, headers={"Prefer": "respond-async"}).json()["job"]["id"]
               for i in range(5)]
        time.sleep(0.6)  # GATEWAY_JOB_WORKERS=2: two run, three wait
        text = httpx.get(f"{gateway.url}/metrics").text
        for job_id in ids:
            wait_job(c, job_id, timeout=30)
        after = httpx.get(f"{gateway.url}/metrics").text

    def value(doc: str, name: str, route: str) -> float:
        m = re.search(rf'^{name}{{route="{route}"}} ([0-9.]+)$', doc, re.M)
        assert m, f"{name}{{route={route}}} missing"
        return float(m.group(1))

    assert value(text, "gateway_jobs_in_progress", "echo") == 2
    assert value(text, "gateway_jobs_queued", "echo") == 3
    assert value(text, "gateway_jobs_queued", "audio") == 0  # every route has a series
    assert value(after, "gateway_jobs_queued", "echo") == 0 and value(after, "gateway_jobs_in_progress", "echo") == 0
    assert ADMIN_KEY not in text
