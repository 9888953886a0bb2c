"""`/api/v1/translations` against a real translation-service process (a tiny random MarianMT
built by the service's own code in its own venv), and one without a model configured."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from kit.testing import ServerProcess, free_port

from conftest import ADMIN_KEY, TRANS_KEY, GatewayProcess, default_routes

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def translation_python() -> str:
    """The translation service's venv (scripts/venv.sh builds or reuses it)."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), "services/translation"], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800, check=True)
    return f"{out.stdout.strip()}/bin/python"


def _service(python: str, model: str) -> ServerProcess:
    port = free_port()
    env = {"TRANSLATION_PORT": str(port), "TRANSLATION_GRPC_PORT": str(free_port()), "TRANSLATION_MODEL": model,
           "TRANSLATION_CPU_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSLATION_MAX_DOCUMENT_MB": "1"}
    proc = ServerProcess([python, "-m", "translation_service"], env=env,
                         ready_url=f"http://127.0.0.1:{port}/v2/health/ready", name="translation", timeout=120)
    proc.url = f"http://127.0.0.1:{port}"
    return proc


@pytest.fixture(scope="module")
def services(tmp_path_factory, translation_python):
    """A translation service with the tiny en->de model and one with no model."""
    model = tmp_path_factory.mktemp("tr") / "opus-mt-en-de-tiny"
    subprocess.run([translation_python, "-c", "import sys; from translation_service.testmodel import "
                    "build_tiny_marian; build_tiny_marian(sys.argv[1])", str(model)],
                   check=True, capture_output=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    real, bare = _service(translation_python, str(model)), _service(translation_python, "")
    with real, bare:
        yield {"real": real, "bare": bare}


def _routes(upstreams, url: str, name: str = "translation", resource: str = "translations") -> dict:
    table = default_routes(upstreams)
    table["routes"].append({"name": name, "kind": "translation", "resource": resource, "upstream": url,
                            "model": "translation", "timeout_s": 60, "max_upload_mb": 2, "max_concurrency": 2})
    return table


@pytest.fixture(scope="module")
def gw(tmp_path_factory, sqlite_url, upstreams, services):
    table = _routes(upstreams, services["real"].url)
    table["routes"].append({"name": "translation-legal", "kind": "translation", "resource": "legal-translations",
                            "upstream": services["real"].url, "model": "translation", "scopes": ["legal"]})
    g = GatewayProcess(tmp_path_factory.mktemp("gw"), sqlite_url, table)
    with g:
        yield g


_DOCX = """
import io, json, sys
import docx
if sys.argv[1] == "make":
    d = docx.Document()
    d.add_heading("The bank sends the statement", level=1)
    p = d.add_paragraph("The customer reads ")
    p.add_run("every invoice").bold = True
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Our team writes.", "42"
    d.save(sys.stdout.buffer)
else:
    d = docx.Document(io.BytesIO(sys.stdin.buffer.read()))
    print(json.dumps({"styles": [p.style.name for p in d.paragraphs], "texts": [p.text for p in d.paragraphs],
                      "bold": [[r.bold for r in p.runs] for p in d.paragraphs],
                      "cells": [[c.text for c in row.cells] for t in d.tables for row in t.rows]}))
"""


def docx_tool(python: str, mode: str, data: bytes = b""):
    """python-docx lives in the translation venv: make a .docx there, or describe one."""
    out = subprocess.run([python, "-c", _DOCX, mode], input=data, capture_output=True, timeout=60, check=True)
    return out.stdout if mode == "make" else json.loads(out.stdout)


def test_default_route_table_has_translation():
    from gateway.routetable import default_routes as defaults
    from gateway.settings import Settings

    route = {r.name: r for r in defaults(Settings())}["translation"]
    assert (route.kind, route.resource, route.upstream, route.scopes) == (
        "translation", "translations", "http://127.0.0.1:8003", ["translations"])


def test_languages(gw):
    with gw.client() as c:
        r = c.get("/api/v1/translations/languages")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["ready"] is True and doc["pairs"] == [["en", "de"]] and doc["auto_detect"] is True
    assert {l["code"] for l in doc["languages"]} == {"en", "de"}


def test_text_translation(gw):
    text = "Title\n\n- The bank sends ACME Pay a letter.\n- The customer reads it."
    with gw.client() as c:
        r = c.post("/api/v1/translations", json={"text": text, "source": "en", "target": "de",
                                                  "glossary": ["ACME Pay"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["source"] == "en" and out["target"] == "de"
    lines = out["text"].split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[2].startswith("- ") and "ACME Pay" in lines[2]


def test_auto_detection_through_the_gateway(gw):
    with gw.client() as c:
        ok = c.post("/api/v1/translations", json={
            "text": "The customer writes a long letter to the bank about every invoice.", "target": "de"})
        bad = c.post("/api/v1/translations", json={
            "text": "Le client écrit une longue lettre à la banque au sujet de chaque facture.", "target": "de"})
    assert ok.status_code == 200 and ok.json()["detected"]["language"] == "en"
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unsupported_pair"


def test_document_upload_returns_the_translated_file(gw, translation_python):
    with gw.client() as c:
        r = c.post("/api/v1/translations", files={"file": ("letter.docx", docx_tool(translation_python, "make"))},
                   data={"source": "en", "target": "de", "glossary": json.dumps({"ACME": "ACME"})})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="letter.de.docx"' in r.headers["content-disposition"]
    out = docx_tool(translation_python, "read", r.content)
    assert out["styles"] == ["Heading 1", "Normal"]
    assert out["bold"][1][1] is True and out["cells"][0][1] == "42" and out["cells"][0][0] != "Our team writes."
    assert out["texts"][0] != "The bank sends the statement"


def test_markdown_upload_as_json(gw):
    md = b"# The bank\n\n- one item\n\n```\ncode stays\n```\n"
    with gw.client() as c:
        r = c.post("/api/v1/translations", files={"file": ("notes.md", md)},
                   data={"source": "en", "target": "de", "format": "json"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["kind"] == "md" and doc["filename"] == "notes.de.md"
    import base64

    text = base64.b64decode(doc["document"]["b64"]).decode()
    assert text.startswith("# ") and "\n- " in text and "```\ncode stays\n```" in text


def test_document_as_a_job_with_progress(gw):
    with gw.client() as c:
        r = c.post("/api/v1/translations?async=true", files={"file": ("page.html", b"<p>The bank sends it.</p>"
                                                                                   b"<p>Two letters.</p>")},
                   data={"source": "en", "target": "de"})
        assert r.status_code == 202, r.text
        job_id = r.json()["job"]["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = c.get(f"/api/v1/jobs/{job_id}").json()
            if job["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
        assert job["state"] == "succeeded", job
        assert job["progress"] == 1.0
        events = c.get(f"/api/v1/jobs/{job_id}/events", headers={"accept": "text/event-stream"}, timeout=10).text
        assert "document sent to the translation service" in events and "translated" in events
        f = c.get(f"/api/v1/translations/jobs/{job_id}/file")
    assert f.status_code == 200 and 'filename="page.de.html"' in f.headers["content-disposition"]
    assert f.text.count("<p>") == 2 and "The bank sends it." not in f.text


@pytest.mark.parametrize("kwargs, status, code", [
    ({"json": {"text": "Hello there.", "source": "en", "target": "fr"}}, 400, "unsupported_pair"),
    ({"json": {"text": "Hello there.", "target": "xx"}}, 400, "unknown_language"),
    ({"json": {"text": "", "target": "de"}}, 422, "validation_error"),
    ({"json": {"text": "Hi", "target": "de", "extra": 1}}, 422, "validation_error"),
    ({"json": {"text": "Hi", "target": "de", "glossary": "x"}}, 422, "validation_error"),
    ({"json": {"target": "de"}}, 422, "validation_error"),
    ({"content": b"{nope", "headers": {"content-type": "application/json"}}, 422, "validation_error"),
    ({"content": b"text", "headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
    ({"files": {"file": ("a.pdf", b"%PDF-1.4")}, "data": {"target": "de"}}, 415, "unsupported_media_type"),
    ({"files": {"file": ("a.docx", b"not a zip")}, "data": {"target": "de"}}, 422, "invalid_document"),
    ({"files": {"file": ("a.txt", b"")}, "data": {"target": "de"}}, 400, "empty_file"),
    ({"files": {"file": ("a.txt", b"The bank.")}, "data": {}}, 422, "validation_error"),
    ({"files": {"file": ("a.txt", b"The bank.")}, "data": {"target": "de", "glossary": "{bad"}}, 422,
     "validation_error"),
    ({"data": {"target": "de"}, "files": {"other": ("a.txt", b"x")}}, 422, "validation_error"),
])
def test_bad_requests_are_4xx_and_everything_stays_up(gw, kwargs, status, code):
    with gw.client() as c:
        r = c.post("/api/v1/translations", **kwargs)
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code
        ok = c.post("/api/v1/translations", json={"text": "The bank sends it.", "source": "en", "target": "de"})
        assert ok.status_code == 200


def test_a_second_translation_route_has_the_same_api(gw):
    """Routes of kind translation on other resources: languages, JSON, documents and job files."""
    with gw.client() as c:
        langs = c.get("/api/v1/legal-translations/languages")
        assert langs.status_code == 200 and langs.json()["pairs"] == [["en", "de"]]
        r = c.post("/api/v1/legal-translations", json={"text": "The bank.\n- Item.", "source": "en", "target": "de"})
        assert r.status_code == 200 and r.json()["text"].split("\n")[1].startswith("- ")
        assert c.post("/api/v1/legal-translations", json={"text": "Hi", "target": "de", "x": 1}).status_code == 422
        d = c.post("/api/v1/legal-translations", files={"file": ("a.txt", b"The bank sends it.\n\nTwo.")},
                   data={"source": "en", "target": "de"})
        assert d.status_code == 200 and 'filename="a.de.txt"' in d.headers["content-disposition"]
        assert d.text.count("\n") == 2
        assert c.get("/api/v1/statements/languages").status_code == 404  # not a translation route


def test_scope(gw):
    with gw.client(TRANS_KEY) as c:
        assert c.post("/api/v1/translations", json={"text": "Hi there.", "target": "de"}).status_code == 403
        assert c.get("/api/v1/translations/languages").status_code == 403


def test_not_configured_translation_route(tmp_path, sqlite_url, upstreams, services):
    """The translations route on a service without a model: 503 with how to configure one, every
    time (the breaker stays closed: the upstream is alive), and languages says not ready."""
    table = _routes(upstreams, services["bare"].url)
    with GatewayProcess(tmp_path, sqlite_url, table) as g, g.client() as c:
        for _ in range(8):
            r = c.post("/api/v1/translations", json={"text": "Hi there.", "target": "de"})
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "model_not_configured"
            assert "TRANSLATION_MODEL" in r.json()["error"]["message"]
        langs = c.get("/api/v1/translations/languages").json()
        assert langs["ready"] is False and "TRANSLATION_MODEL" in langs["message"]
        r = c.post("/api/v1/translations", files={"file": ("a.txt", b"The bank.")}, data={"target": "de"})
        assert r.status_code == 503 and "TRANSLATION_MODEL" in r.json()["error"]["message"]


def test_translation_service_down_is_503(tmp_path, sqlite_url, upstreams):
    table = _routes(upstreams, f"http://127.0.0.1:{free_port()}")
    with GatewayProcess(tmp_path, sqlite_url, table) as g, g.client() as c:
        r = c.get("/api/v1/translations/languages")
        assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable"
        assert httpx.get(f"{g.url}/healthz", timeout=5).status_code == 200
