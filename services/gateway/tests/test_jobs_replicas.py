"""Several gateway replicas on one PostgreSQL (the cluster's shape): jobs submitted to either are
claimed by exactly one worker, and when a replica is killed with SIGKILL the other recovers its
jobs after their lease, so none is lost. Real PostgreSQL, real gateway processes, a real upstream."""

from __future__ import annotations

import time

import pytest
from conftest import ADMIN_KEY, GatewayProcess, Upstream, new_pg_database

JOBS = 100
ENV = {"GATEWAY_JOB_WORKERS": "3", "GATEWAY_JOB_LEASE_S": "3", "GATEWAY_JOB_POLL_S": "0.2",
       "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000"}


@pytest.fixture
def echo(request):
    up = Upstream("custom").start()
    yield up
    up.stop()


@pytest.fixture
def pg_url(postgres_admin_url):
    return new_pg_database(postgres_admin_url)


def _replicas(tmp_path, pg_url, echo_url: str, n: int = 2) -> list[GatewayProcess]:
    out = []
    for i in range(n):
        (tmp_path / f"gw{i}").mkdir()
        out.append(GatewayProcess(tmp_path / f"gw{i}", pg_url, _routes(echo_url), env=ENV))
    return out


def _routes(echo_url: str) -> dict:
    return {"routes": [{"name": "echo", "kind": "custom", "resource": "echo", "upstream": echo_url,
                        "model": "custom", "timeout_s": 10, "max_concurrency": 8}]}


def _submit(gateways, tag_offset: int, n: int, delay: float) -> list[tuple[str, int]]:
    """(job id, tag) for n jobs, alternating between the gateways."""
    out = []
    clients = [g.client(ADMIN_KEY) for g in gateways]
    try:
        for i in range(n):
            tag = tag_offset + i
            r = clients[i % len(clients)].post("/api/v1/echo?async=true", json={"tag": tag, "delay": delay})
            assert r.status_code == 202, r.text
            out.append((r.json()["job"]["id"], tag))
    finally:
        for c in clients:
            c.close()
    return out


def _wait_all(gateway, ids: list[str], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict] = {}
    with gateway.client(ADMIN_KEY) as c:
        while time.monotonic() < deadline and len(done) < len(ids):
            for job_id in ids:
                if job_id not in done:
                    job = c.get(f"/api/v1/jobs/{job_id}").json()
                    if job["state"] in ("succeeded", "failed"):
                        done[job_id] = job
            time.sleep(0.3)
    missing = [i for i in ids if i not in done]
    assert not missing, f"{len(missing)} jobs not finished after {timeout}s"
    return done


def test_two_replicas_run_each_job_exactly_once(tmp_path, pg_url, echo):
    gateways = _replicas(tmp_path, pg_url, echo.url)
    for g in gateways:
        g.start()
    try:
        jobs = _submit(gateways, 0, JOBS, delay=0.02)
        done = _wait_all(gateways[0], [j for j, _ in jobs], timeout=120)
    finally:
        for g in gateways:
            g.stop()
    assert all(job["state"] == "succeeded" for job in done.values())
    tags = echo.last()["tags"]
    assert sorted(map(int, tags)) == list(range(JOBS))
    assert set(tags.values()) == {1}, {t: n for t, n in tags.items() if n != 1}


def test_a_killed_replica_loses_no_job(tmp_path, pg_url, echo):
    """SIGKILL one replica while both are working: every job still succeeds. A job whose call was
    in flight on the killed replica runs again on the other (at-least-once for those only, at
    most one per worker of the killed replica); every other job ran exactly once."""
    gateways = _replicas(tmp_path, pg_url, echo.url)
    for g in gateways:
        g.start()
    try:
        jobs = _submit(gateways, 0, JOBS, delay=0.3)
        time.sleep(1.5)  # both replicas are running jobs now
        gateways[0].kill()
        done = _wait_all(gateways[1], [j for j, _ in jobs], timeout=180)
    finally:
        for g in gateways:
            g.stop()
    assert [j["state"] for j in done.values()] == ["succeeded"] * JOBS
    tags = echo.last()["tags"]
    assert sorted(map(int, tags)) == list(range(JOBS)), "a job never reached the upstream"
    repeated = {t: n for t, n in tags.items() if n > 1}
    assert len(repeated) <= int(ENV["GATEWAY_JOB_WORKERS"]) and all(n == 2 for n in repeated.values()), repeated
    # the kill happened mid-work: the killed replica's running jobs were recovered (a second attempt)
    recovered = [j for j in done.values() if j["attempts"] > 1]
    assert 1 <= len(recovered) <= int(ENV["GATEWAY_JOB_WORKERS"]), [(j["id"], j["attempts"]) for j in recovered]
