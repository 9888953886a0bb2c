"""Auth on every route, scopes, the keys CLI, hashed storage, rate limits (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import sqlalchemy as sa
from conftest import ADMIN_KEY, ECHO_KEY, STMT_KEY, TRANS_KEY, GatewayProcess, default_routes, make_wav

OPEN = ["/healthz", "/readyz", "/metrics", "/api/v1/health", "/docs", "/openapi.json"]
PROTECTED = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/services"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/0123456789abcdef0123456789abcdef"),
    ("GET", "/api/v1/jobs/0123456789abcdef0123456789abcdef/events"),
    ("GET", "/api/v1/jobs/0123456789abcdef0123456789abcdef/result"),
    ("POST", "/api/v1/transcriptions"),
    ("POST", "/api/v1/statements"),
    ("POST", "/api/v1/echo"),
    ("POST", "/v1/audio/transcriptions"),
    ("POST", "/v1/audio/translations"),
]


def _error(resp: httpx.Response) -> dict:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


@pytest.mark.parametrize("path", OPEN)
def test_open_routes_need_no_key(gateway, path):
    with gateway.client(None) as c:
        assert c.get(path).status_code == 200


def test_docs_page_and_its_assets_are_served_locally(gateway):
    """Swagger UI must work on an offline laptop: no CDN URLs, assets come from the gateway."""
    with gateway.client(None) as c:
        page = c.get("/docs").text
        assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
        for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
            assert asset in page
            resp = c.get(asset)
            assert resp.status_code == 200 and len(resp.content) > 10_000, asset
        assert c.get("/docs/staticx").status_code == 401  # the prefix opens only the asset folder


@pytest.mark.parametrize("method,path", PROTECTED)
def test_every_protected_route_refuses_missing_and_wrong_keys(gateway, method, path):
    with gateway.client(None) as c:
        r = c.request(method, path)
        assert r.status_code == 401
        assert _error(r)["code"] == "missing_api_key"
        assert r.headers["www-authenticate"] == "Bearer"
        r = c.request(method, path, headers={"Authorization": "Bearer not-a-valid-key-at-all"})
        assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"
        r = c.request(method, path, headers={"X-API-Key": "not-a-valid-key-at-all"})
        assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"
        r = c.request(method, path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert r.status_code == 401 and _error(r)["code"] == "invalid_authorization"


def test_bearer_and_x_api_key_both_work(gateway):
    with gateway.client(None) as c:
        a = c.get("/api/v1/me", headers={"Authorization": f"Bearer {TRANS_KEY}"})
        b = c.get("/api/v1/me", headers={"X-API-Key": TRANS_KEY})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert a.json()["scopes"] == ["transcriptions"]


@pytest.mark.parametrize("key,path,files,allowed", [
    (STMT_KEY, "/api/v1/transcriptions", {"file": ("a.wav", make_wav(), "audio/wav")}, False),
    (TRANS_KEY, "/api/v1/transcriptions", {"file": ("a.wav", make_wav(), "audio/wav")}, True),
    (TRANS_KEY, "/api/v1/statements", {"file": ("a.wav", make_wav(), "audio/wav")}, False),
    (STMT_KEY, "/v1/audio/transcriptions", {"file": ("a.wav", make_wav(), "audio/wav")}, False),
    (TRANS_KEY, "/api/v1/echo", None, False),
    (ECHO_KEY, "/api/v1/echo", None, True),
    (ADMIN_KEY, "/api/v1/echo", None, True),
])
def test_scopes_per_resource(gateway, key, path, files, allowed):
    with gateway.client(key) as c:
        if files:
            r = c.post(path, files=files, data={"model": "whisper-1"})
        else:
            r = c.post(path, json={"text": "hi"})
    if allowed:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403
        assert _error(r)["code"] == "insufficient_scope"


def test_keys_cli_create_list_revoke(gateway):
    out = gateway.cli("keys", "create", "--name", "ci-robot", "--scopes", "statements,echo")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout)
    key = created["key"]
    assert created["scopes"] == ["statements", "echo"]
    with gateway.client(key) as c:
        me = c.get("/api/v1/me").json()
        assert me == {"key_id": created["key_id"], "name": "ci-robot", "scopes": ["statements", "echo"]}
        assert c.post("/api/v1/echo", json={"x": 1}).status_code == 200

    listed = [json.loads(line) for line in gateway.cli("keys", "list").stdout.splitlines()]
    assert any(k["key_id"] == created["key_id"] for k in listed)
    assert all("key" not in k and "key_hash" not in k for k in listed)

    only = gateway.cli("keys", "create", "--name", "local", "--scopes", "all", "--print-key-only")
    assert only.returncode == 0 and only.stdout.strip().startswith("gw_") and len(only.stdout.split()) == 1

    rev = gateway.cli("keys", "revoke", created["key_id"])
    assert rev.returncode == 0, rev.stderr
    time.sleep(0.5)  # the gateway trusts a looked-up key for GATEWAY_AUTH_CACHE_S (0.3 s here)
    with gateway.client(key) as c:
        r = c.get("/api/v1/me")
    assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"
    assert gateway.cli("keys", "revoke", "k_doesnotexist").returncode == 1


def test_keys_are_stored_only_as_hashes(gateway):
    out = gateway.cli("keys", "create", "--name", "hash-check", "--print-key-only")
    key = out.stdout.strip()
    engine = sa.create_engine(gateway.db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM api_keys")).mappings().all()
    finally:
        engine.dispose()
    dump = json.dumps([dict(r) for r in rows], default=str)
    for plaintext in (key, ADMIN_KEY, TRANS_KEY):
        assert plaintext not in dump
    assert all(len(r["key_hash"]) == 64 for r in rows)


def test_rate_limit_per_key_answers_429_with_retry_after(gateway):
    out = gateway.cli("keys", "create", "--name", "slow", "--rate-limit", "4", "--print-key-only")
    key = out.stdout.strip()
    with gateway.client(key) as c:
        statuses = [c.get("/api/v1/me") for _ in range(6)]
        # another key is not affected
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200
    codes = [r.status_code for r in statuses]
    assert codes[:2] == [200, 200] and 429 in codes  # burst of per_minute/2 = 2
    limited = next(r for r in statuses if r.status_code == 429)
    assert _error(limited)["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


def test_seeded_keys_survive_a_restart_and_cli_keys_too(tmp_path, db_url, upstreams):
    """A new gateway process on the same database knows keys created earlier."""
    gw = GatewayProcess(tmp_path, db_url, default_routes(upstreams))
    with gw:
        key = gw.cli("keys", "create", "--name", "persist", "--print-key-only").stdout.strip()
    gw.start()
    try:
        with gw.client(key) as c:
            assert c.get("/api/v1/me").json()["name"] == "persist"
    finally:
        gw.stop()
