"""Fixtures: real gateway processes, real small upstreams, SQLite and a real PostgreSQL.

PostgreSQL: `GATEWAY_TEST_PG_URL` (an admin URL) when set; otherwise the suite starts its own
Debian PostgreSQL (initdb into a temp dir, as the `postgres` user when run as root) on a free
loopback port. When that is impossible the PostgreSQL tests FAIL; they never skip.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
from kit.testing import ServerProcess, free_port

HERE = Path(__file__).resolve().parent
UPSTREAM_APP = HERE / "upstream_app.py"

ADMIN_KEY = "test-admin-key-000001"
TRANS_KEY = "test-trans-key-000001"
STMT_KEY = "test-stmt-key-0000001"
ECHO_KEY = "test-echo-key-0000001"
SEED_KEYS = f"{ADMIN_KEY};{TRANS_KEY}:transcriptions;{STMT_KEY}:statements;{ECHO_KEY}:echo"

FAST_ENV = {
    "GATEWAY_BREAKER_FAILURES": "3",
    "GATEWAY_BREAKER_RESET_S": "1.5",
    "GATEWAY_AUTH_CACHE_S": "0.3",
    "GATEWAY_JOB_LEASE_S": "2",
    "GATEWAY_JOB_POLL_S": "0.2",
    "GATEWAY_JOB_RETRY_DELAY_S": "0.3",
    "GATEWAY_ROUTES_POLL_S": "0.3",
    "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
    "GATEWAY_LOG_LEVEL": "INFO",
}


# ---------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
            return Path(d)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_admin_url():
    """An admin URL of a running PostgreSQL: given, or started here for the session."""
    given = os.environ.get("GATEWAY_TEST_PG_URL")
    if given:
        yield given
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed (apt-get install postgresql) and GATEWAY_TEST_PG_URL is unset")
    base = Path(tempfile.mkdtemp(prefix="gw-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-locale"], check=True, capture_output=True, timeout=120)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log"), "-w",
                        "-t", "60", "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200", "start"], check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = (base / "pg.log").read_text(errors="replace") if (base / "pg.log").exists() else ""
        out = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"could not start PostgreSQL: {exc}\n{out.decode(errors='replace')}\n{log[-2000:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def new_pg_database(admin_url: str) -> str:
    import psycopg

    name = "gw_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory):
    """A fresh, empty database of each kind (module scope: one per test module and kind)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gateway.db'}"
    return new_pg_database(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gateway.db'}"


# ---------------------------------------------------------------- processes


class Upstream(ServerProcess):
    """The small real upstream (upstream_app.py) on a free port."""

    def __init__(self, model: str, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, str(UPSTREAM_APP), "--port", str(self.port), "--model", model],
                         ready_url=f"{self.url}/v2/health/ready", timeout=30, name=f"upstream-{model}")

    def control(self, **knobs) -> dict:
        return httpx.post(f"{self.url}/control", json=knobs, timeout=5).json()

    def last(self) -> dict:
        return httpx.get(f"{self.url}/last", timeout=5).json()


def route_table(audio_url: str, vlm_url: str, echo_url: str, **overrides) -> dict:
    routes = [
        {"name": "audio", "kind": "transcription", "resource": "transcriptions", "upstream": audio_url,
         "model": "audio", "scopes": ["transcriptions"], "timeout_s": 5, "max_upload_mb": 1,
         "max_concurrency": 2},
        {"name": "vlm", "kind": "statement-extraction", "resource": "statements", "upstream": vlm_url,
         "model": "vlm", "scopes": ["statements"], "timeout_s": 5, "max_upload_mb": 1, "max_concurrency": 2},
        {"name": "echo", "kind": "custom", "resource": "echo", "upstream": echo_url, "model": "custom",
         "scopes": ["echo"], "timeout_s": 2, "max_upload_mb": 1, "max_concurrency": 2},
    ]
    for r in routes:
        r.update(overrides.get(r["name"], {}))
    return {"routes": routes}


class GatewayProcess(ServerProcess):
    """The gateway as a real subprocess (`python -m gateway serve`) with its own data dir."""

    def __init__(self, tmp: Path, db_url: str, routes: dict | None = None, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.routes_file = tmp / "routes.json"
        if routes is not None:
            self.write_routes(routes)
        full_env = {
            **FAST_ENV,
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_DATA_DIR": str(self.data_dir),
            "GATEWAY_DATABASE_URL": db_url,
            "GATEWAY_API_KEYS": SEED_KEYS,
            **({"GATEWAY_ROUTES_FILE": str(self.routes_file)} if routes is not None else {}),
            **(env or {}),
        }
        super().__init__([sys.executable, "-m", "gateway", "serve"], env=full_env,
                         ready_url=f"{self.url}/readyz", timeout=60, name="gateway")
        self.db_url = db_url

    def write_routes(self, routes: dict) -> None:
        tmp = self.routes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(routes))
        tmp.replace(self.routes_file)

    def client(self, key: str | None = ADMIN_KEY, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kw.pop("timeout", 30), **kw)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**self.env}
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, capture_output=True,
                              text=True, timeout=60)


@pytest.fixture(scope="session")
def upstreams():
    """Three small real upstreams shaped like audio-service, vlm-service and a custom service."""
    ups = {"audio": Upstream("audio"), "vlm": Upstream("vlm"), "echo": Upstream("custom")}
    try:
        for u in ups.values():
            u.start()
        yield ups
    finally:
        for u in ups.values():
            u.stop()


@pytest.fixture(autouse=True)
def _reset_upstreams(request):
    yield
    if "upstreams" in request.fixturenames:
        for u in request.getfixturevalue("upstreams").values():
            if u.running:
                try:
                    u.control(fail_status=None, delay=0, stream_mode="ok")
                except httpx.HTTPError:
                    pass


def default_routes(upstreams, **overrides) -> dict:
    return route_table(upstreams["audio"].url, upstreams["vlm"].url, upstreams["echo"].url, **overrides)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, db_url, upstreams):
    """A gateway over the test upstreams, once per test module and database kind."""
    gw = GatewayProcess(tmp_path_factory.mktemp("gw"), db_url, default_routes(upstreams))
    with gw:
        yield gw


@pytest.fixture(scope="module")
def gateway_sqlite(tmp_path_factory, sqlite_url, upstreams):
    """A gateway on SQLite only, for behaviour that does not touch the database."""
    gw = GatewayProcess(tmp_path_factory.mktemp("gw"), sqlite_url, default_routes(upstreams))
    with gw:
        yield gw


def make_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A real (silent) 16-bit mono WAV file."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


def make_png() -> bytes:
    """A real 1x1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
               b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")
