"""Real document-qa processes on free loopback ports, each with its own data directory."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import httpx
import pytest

from kit.testing import ServerProcess, free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
MAX_FILE_MB = 2
MAX_QUESTION_CHARS = 2000


def service(data_dir: Path, name: str = "document-qa", **env: str) -> ServerProcess:
    """A document-qa process (not started) storing under `data_dir`; `proc.url` is its base URL."""
    port = free_port()
    base = {"DOCQA_PORT": str(port), "DOCQA_GRPC_PORT": str(free_port()), "DOCQA_DATA_DIR": str(data_dir),
            "DOCQA_MAX_FILE_MB": str(MAX_FILE_MB), "DOCQA_MAX_QUESTION_CHARS": str(MAX_QUESTION_CHARS),
            "DOCQA_OCR_DPI": "150", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            "DOCQA_HEADER_TIMEOUT_S": "5"}
    proc = ServerProcess([sys.executable, "-m", "document_qa_service"], env={**base, **env},
                         ready_url=f"http://127.0.0.1:{port}/v2/health/ready", name=name, timeout=240)
    proc.url = f"http://127.0.0.1:{port}"
    return proc


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with service(tmp_path_factory.mktemp("docqa-data")) as proc:
        yield proc


@pytest.fixture(scope="session")
def chroma(tmp_path_factory):
    """A real `chroma run` server (from the chromadb wheel) on a free port; `.url`, `.port`."""
    port = free_port()
    chroma_bin = Path(sys.executable).with_name("chroma")
    cmd = [str(chroma_bin), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1",
           "--port", str(port)]
    with ServerProcess(cmd, env={"ANONYMIZED_TELEMETRY": "False"}, ready_url=f"http://127.0.0.1:{port}/api/v2/heartbeat",
                       name="chroma", timeout=120) as proc:
        proc.url = f"http://127.0.0.1:{port}"
        proc.port = port
        yield proc


def call(url: str, timeout: float = 300, **instance) -> httpx.Response:
    """One v1 operation: POST /v1/models/document-qa:predict {"instances": [instance]}."""
    return httpx.post(f"{url}/v1/models/document-qa:predict", json={"instances": [instance]}, timeout=timeout)


def ok(url: str, **instance) -> dict:
    r = call(url, **instance)
    assert r.status_code == 200, r.text
    return r.json()


def ingest(url: str, owner: str, filename: str, data: bytes, content_type: str = "") -> dict:
    return ok(url, op="ingest", owner=owner, filename=filename, content_type=content_type,
              data=base64.b64encode(data).decode())["predictions"][0]["document"]


def ask(url: str, owner: str, question: str, **extra) -> dict:
    return ok(url, op="ask", owner=owner, question=question, **extra)


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) of a text/event-stream body."""
    events = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events
