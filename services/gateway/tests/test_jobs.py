"""Async jobs on SQLite and PostgreSQL: 202 + Location, state and result, the SSE stream, retries,
and durability across a gateway killed with SIGKILL while jobs are queued and running."""

from __future__ import annotations

import json
import time

import pytest
from conftest import ADMIN_KEY, ECHO_KEY, GatewayProcess, Upstream, default_routes, make_wav, new_pg_database


def wait_job(client, job_id: str, timeout: float = 20.0, states=("succeeded", "failed")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout}s")


def _parse_sse(lines, events: list[dict]) -> None:
    """Append each complete server-sent event from `lines` to `events` (as it arrives)."""
    current: dict = {}
    for line in lines:
        if line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and current:
            events.append(current)
            current = {}


def read_events(client, job_id: str, headers: dict | None = None, timeout: float = 20.0) -> list[dict]:
    events: list[dict] = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=headers or {}, timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        _parse_sse(r.iter_lines(), events)
    return events


@pytest.fixture
def fresh_db(db_url, tmp_path, request):
    """An empty database of the module's kind, used by one gateway only."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return new_pg_database(request.getfixturevalue("postgres_admin_url"))


def test_prefer_respond_async_gives_202_location_and_result(gateway):
    with gateway.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("talk.wav", make_wav(0.2), "audio/wav")},
                   data={"response_format": "srt"}, headers={"Prefer": "respond-async"})
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        assert r.headers["location"] == f"/api/v1/jobs/{job['id']}"
        assert job["state"] == "queued" and job["kind"] == "transcription" and job["route"] == "audio"
        assert job["filename"] == "talk.wav" and job["progress"] == 0.0
        done = wait_job(c, job["id"])
        assert done["state"] == "succeeded" and done["progress"] == 1.0
        assert done["result"].startswith("1\n00:00:00,000 --> 00:00:01,000")
        assert done["created_at"].endswith("Z") and done["updated_at"] >= done["created_at"]
        raw = c.get(f"/api/v1/jobs/{job['id']}/result")
        assert raw.headers["content-type"].startswith("application/x-subrip") and raw.text == done["result"]
        events = read_events(c, job["id"])
    types = [e["event"] for e in events]
    assert types[0] == "queued" and types[1] == "started" and types[-1] == "succeeded"
    assert "progress" in types
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["data"]["seq"] == e["id"] and e["data"]["type"] == e["event"] for e in events)
    progress = [e["data"]["data"]["fraction"] for e in events if e["event"] == "progress"]
    assert progress == sorted(progress) and all(0 <= p <= 1 for p in progress)
    assert not (gateway.data_dir / "uploads" / job["id"]).exists()  # upload removed when done


def test_async_query_flag_on_generic_route_and_sse_resume(gateway):
    with gateway.client(ECHO_KEY) as c:
        r = c.post("/api/v1/echo", params={"async": "true"}, json={"hello": "job"})
        assert r.status_code == 202
        job_id = r.json()["job"]["id"]
        events = read_events(c, job_id)
        assert events[-1]["event"] == "succeeded"
        assert c.get(f"/api/v1/jobs/{job_id}").json()["result"] == {"echo": {"hello": "job"}, "model": "custom"}
        resumed = read_events(c, job_id, headers={"Last-Event-ID": str(events[-2]["id"])})
        assert [e["id"] for e in resumed] == [events[-1]["id"]]


def test_a_client_that_reconnects_with_last_event_id_resumes_where_it_left(gateway):
    """As an EventSource does: the connection drops mid-stream (here: after `started`, while
    the upstream still works), the client reconnects with the last `id:` it saw as
    `Last-Event-ID`, and gets every later event once, none it already had."""
    with gateway.client(ECHO_KEY) as c:
        job = c.post("/api/v1/echo", json={"delay": 1.5}, headers={"Prefer": "respond-async"}).json()["job"]
        seen: list[dict] = []
        with c.stream("GET", f"/api/v1/jobs/{job['id']}/events", timeout=20) as r:
            assert r.status_code == 200

            def until_started():
                for line in r.iter_lines():
                    yield line
                    if seen and seen[-1]["event"] == "started":
                        return  # the client goes away mid-stream

            _parse_sse(until_started(), seen)
        assert seen[-1]["event"] == "started"
        assert c.get(f"/api/v1/jobs/{job['id']}").json()["state"] == "running"  # it left before the end
        rest = read_events(c, job["id"], headers={"Last-Event-ID": str(seen[-1]["id"])})
        whole = read_events(c, job["id"])
    assert rest and rest[0]["id"] == seen[-1]["id"] + 1 and rest[-1]["event"] == "succeeded"
    assert seen + rest == whole
    with gateway.client(ECHO_KEY) as c:
        r = c.get(f"/api/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": "not-a-number"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_last_event_id"


def test_failed_job_has_clear_error_and_list_is_per_key_newest_first(gateway):
    with gateway.client(ECHO_KEY) as c:
        first = c.post("/api/v1/echo", json={"fail": 422}, headers={"Prefer": "respond-async"}).json()["job"]
        second = c.post("/api/v1/echo", json={"ok": 1}, headers={"Prefer": "respond-async"}).json()["job"]
        failed = wait_job(c, first["id"])
        assert failed["state"] == "failed"
        assert failed["error"] == {"code": "unprocessable", "message": "upstream asked to fail with 422"}
        assert "result" not in failed
        r = c.get(f"/api/v1/jobs/{first['id']}/result")
        assert r.status_code == 409 and r.json()["error"]["code"] == "unprocessable"
        assert read_events(c, first["id"])[-1]["event"] == "failed"
        wait_job(c, second["id"])
        ids = [j["id"] for j in c.get("/api/v1/jobs", params={"limit": 50}).json()["jobs"]]
        assert ids.index(second["id"]) < ids.index(first["id"])
    with gateway.client(ADMIN_KEY) as other:
        assert other.get(f"/api/v1/jobs/{first['id']}").status_code == 404
        assert other.get(f"/api/v1/jobs/{first['id']}/events").status_code == 404
        assert first["id"] not in [j["id"] for j in other.get("/api/v1/jobs").json()["jobs"]]
        r = other.get("/api/v1/jobs/not-a-job-id")
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"


def test_transient_upstream_failure_is_retried_then_fails_clearly(gateway, upstreams):
    upstreams["echo"].control(fail_status=503)
    with gateway.client(ECHO_KEY) as c:
        job = c.post("/api/v1/echo", json={"x": 1}, headers={"Prefer": "respond-async"}).json()["job"]
        done = wait_job(c, job["id"], timeout=30)
        events = read_events(c, job["id"])
    assert done["state"] == "failed" and done["attempts"] == 3  # GATEWAY_JOB_MAX_ATTEMPTS default
    assert done["error"]["code"] in ("overloaded", "upstream_unavailable")
    assert [e["event"] for e in events].count("started") == 3
    requeued = [e for e in events if e["event"] == "queued"][1:]
    assert len(requeued) == 2 and all("reason" in e["data"]["data"] for e in requeued)


def test_transient_failure_then_recovery_succeeds(gateway, upstreams):
    upstreams["echo"].control(fail_status=503)
    with gateway.client(ECHO_KEY) as c:
        job = c.post("/api/v1/echo", json={"x": 2}, headers={"Prefer": "respond-async"}).json()["job"]
        wait_job(c, job["id"], states=("queued",), timeout=10)
        time.sleep(0.2)
        upstreams["echo"].control(fail_status=None)
        time.sleep(1.6)  # the breaker may have opened (3 failures); it half-opens after 1.5 s
        done = wait_job(c, job["id"], timeout=30)
    assert done["state"] == "succeeded", done


def test_jobs_survive_a_killed_gateway(tmp_path, fresh_db, upstreams):
    """SIGKILL the gateway with one job running and several queued; start it again: every job is
    still there and finishes; a job whose upload vanished fails with a clear error; no event is
    lost or rewritten."""
    slow = Upstream("audio").start()
    routes = default_routes(upstreams)
    routes["routes"][0]["upstream"] = slow.url
    gw = GatewayProcess(tmp_path, fresh_db, routes, env={"GATEWAY_JOB_WORKERS": "1"})
    try:
        slow.control(delay=6)
        gw.start()
        with gw.client() as c:
            ids = []
            for i in range(4):
                r = c.post("/api/v1/transcriptions", files={"file": (f"t{i}.wav", make_wav(0.1), "audio/wav")},
                           headers={"Prefer": "respond-async"})
                assert r.status_code == 202
                ids.append(r.json()["job"]["id"])
            wait_job(c, ids[0], states=("running",), timeout=10)
            before = {i: read_events_nowait(c, i) for i in ids}
        gw.kill()
        assert not gw.running
        # the last queued job loses its upload while the gateway is down
        lost = ids[-1]
        upload = gw.data_dir / "uploads" / lost / "upload.bin"
        assert upload.exists() and (gw.data_dir / "uploads" / ids[0] / "upload.bin").exists()
        upload.unlink()
        slow.control(delay=0)
        gw.start()
        with gw.client() as c:
            finals = {i: wait_job(c, i, timeout=30) for i in ids}
            after = {i: read_events(c, i) for i in ids}
    finally:
        gw.stop()
        slow.stop()
    for i in ids[:-1]:
        assert finals[i]["state"] == "succeeded", finals[i]
        assert finals[i]["result"]["text"].strip() == "hello world second segment"
    assert finals[lost]["state"] == "failed" and finals[lost]["error"]["code"] == "upload_lost"
    # the job that was running was re-queued after the lease expired, with a reason
    reasons = [e["data"]["data"].get("reason", "") for e in after[ids[0]] if e["event"] == "queued"]
    assert any("recovered" in r for r in reasons), after[ids[0]]
    for i in ids:  # append-only: what was there before the kill is still there, unchanged
        assert after[i][: len(before[i])] == before[i]
        assert [e["id"] for e in after[i]] == list(range(1, len(after[i]) + 1))
    assert not any((gw.data_dir / "uploads" / i).exists() for i in ids)


def read_events_nowait(client, job_id: str) -> list[dict]:
    """The events so far, read from the database through the stream with a short timeout."""
    import httpx

    events: list[dict] = []
    try:
        with client.stream("GET", f"/api/v1/jobs/{job_id}/events", timeout=httpx.Timeout(0.8)) as r:
            _parse_sse(r.iter_lines(), events)
    except httpx.ReadTimeout:
        pass
    return events


def test_graceful_stop_requeues_running_jobs(tmp_path, fresh_db, upstreams):
    slow = Upstream("custom").start()
    routes = default_routes(upstreams)
    routes["routes"][2]["upstream"] = slow.url
    routes["routes"][2]["timeout_s"] = 30
    gw = GatewayProcess(tmp_path, fresh_db, routes)
    try:
        gw.start()
        with gw.client() as c:
            job = c.post("/api/v1/echo", json={"delay": 3}, headers={"Prefer": "respond-async"}).json()["job"]
            wait_job(c, job["id"], states=("running",), timeout=10)
        gw.stop()  # SIGTERM
        gw.start()
        with gw.client() as c:
            done = wait_job(c, job["id"], timeout=30)
            events = read_events(c, job["id"])
    finally:
        gw.stop()
        slow.stop()
    assert done["state"] == "succeeded"
    assert any(e["event"] == "queued" and "stopping" in e["data"]["data"].get("reason", "") for e in events)


def test_migrations_create_the_schema(db_url):
    import sqlalchemy as sa

    from gateway.db import make_engine, migrate

    engine = make_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent
        names = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"api_keys", "jobs", "job_events", "alembic_version"} <= names
