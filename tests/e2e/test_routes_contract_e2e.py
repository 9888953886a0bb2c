"""The operator's rendered route table (tests/contracts/routes.sample.json, v1 and v2 routes)
served by the real gateway in front of the real audio-service (over OIP v2) and vlm-service
(over v1); a permanent configuration error of a real service is a 501 that nobody retries."""

from __future__ import annotations

import base64
import json

import httpx
import jiwer
import pytest
from conftest import API_KEY, ROOT, Service
from kit.testing import free_port

SAMPLE = ROOT / "tests" / "contracts" / "routes.sample.json"


@pytest.fixture(scope="module")
def sample_gateway(audio_service, vlm_service, tmp_path_factory):
    table = json.loads(SAMPLE.read_text(encoding="utf-8"))
    real = {"audio": audio_service.url, "vlm": vlm_service.url}
    for route in table["routes"]:  # only the cluster addresses change; services not run here stay down
        route["upstream"] = real.get(route["name"], f"http://127.0.0.1:{free_port()}")
    table["routes"].append({"name": "vlm-ask", "kind": "custom", "resource": "statement-questions",
                            "upstream": vlm_service.url, "model": "vlm", "protocol": "v1", "timeout_s": 120})
    d = tmp_path_factory.mktemp("gw-contract")
    (d / "routes.json").write_text(json.dumps(table))
    port = free_port()
    svc = Service("gateway", {"GATEWAY_PORT": str(port), "GATEWAY_DATA_DIR": str(d / "data"),
                              "GATEWAY_API_KEYS": API_KEY, "GATEWAY_ROUTES_FILE": str(d / "routes.json")},
                  port, timeout=60)
    with svc:
        yield svc


def _client(gw) -> httpx.Client:
    return httpx.Client(base_url=gw.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300)


def test_v2_audio_and_v1_vlm_routes_from_the_operator_table(sample_gateway, speech, statement_pdf):
    wav, text = speech
    pdf, truth = statement_pdf
    protocols = {r["name"]: r["protocol"] for r in json.loads(SAMPLE.read_text())["routes"]}
    assert protocols["audio"] == "v2" and protocols["vlm"] == "v1"
    with _client(sample_gateway) as c:
        names = {s["name"] for s in c.get("/api/v1/services").json()["services"]}
        t = c.post("/api/v1/transcriptions", files={"file": ("speech.wav", wav, "audio/wav")},
                   data={"language": "en", "word_timestamps": "true"})
        s = c.post("/api/v1/statements", files={"file": ("s.pdf", pdf, "application/pdf")}, data={"format": "csv"})
    assert names == {"audio", "document-qa", "translation", "vlm", "vlm-ask"}
    assert t.status_code == 200, t.text
    body = t.json()
    assert jiwer.wer(text, body["text"].lower().strip(" .")) < 0.5, body["text"]
    assert body["language"] == "en" and any(seg.get("words") for seg in body["segments"])
    assert s.status_code == 200, s.text
    assert s.text.count("\r\n") == len(truth["transactions"]) + 1
    assert "audio" in sample_gateway.log_text() and "(v2)" in sample_gateway.log_text()


def test_question_without_a_vlm_is_501_without_retry_after(sample_gateway, statement_pdf):
    pdf, _ = statement_pdf
    body = {"task": "ask", "question": "What is the closing balance?",
            "document": {"b64": base64.b64encode(pdf).decode()}}
    with _client(sample_gateway) as c:
        r = c.post("/api/v1/statement-questions", json=body)
    assert r.status_code == 501, r.text
    assert "retry-after" not in r.headers
    assert "VLM" in r.json()["error"]["message"]
