"""A real service process on loopback: text, documents, detection, errors, v2, and the service
without a model (live, not ready, 503 with how to configure one)."""

import base64
import io

import docx
import httpx
import pytest

from conftest import predict

EN = "The customer writes a long letter to the bank about every invoice of the last year."
DE = "Der Kunde schreibt der Bank einen langen Brief über jede Rechnung des letzten Jahres."


def healthy(server) -> None:
    assert httpx.get(f"{server.url}/v2/health/live", timeout=5).status_code == 200
    assert httpx.get(f"{server.url}/v2/models/translation/ready", timeout=5).status_code == 200
    r = predict(server.url, {"text": "The bank sends the statement.", "target": "de", "source": "en"})
    assert r.status_code == 200 and r.json()["predictions"][0]["text"].strip()


def test_languages(server):
    doc = httpx.get(f"{server.url}/v1/models/translation/languages", timeout=10).json()
    assert doc["ready"] is True and doc["message"] is None and doc["auto_detect"] is True
    assert doc["pairs"] == [["en", "de"]]
    assert {(l["code"], l["source"], l["target"]) for l in doc["languages"]} == {("de", False, True),
                                                                                ("en", True, False)}
    assert doc["models"][0]["family"] == "marian" and doc["models"][0]["backend"] == "transformers"


def test_text_keeps_structure_and_glossary(server):
    text = "Title\n\n- The bank sends ACME Pay.\n- The customer reads it.\n"
    r = predict(server.url, {"text": text, "source": "en", "target": "de", "glossary": {"ACME Pay": "ACME Pay"}})
    assert r.status_code == 200, r.text
    out = r.json()["predictions"][0]
    assert out["source"] == "en" and out["target"] == "de" and "detected" not in out
    lines = out["text"].split("\n")
    assert len(lines) == 5 and lines[1] == "" and lines[4] == ""
    assert lines[2].startswith("- ") and lines[3].startswith("- ") and "ACME Pay" in lines[2]


def test_several_instances_and_language_variants(server):
    r = predict(server.url, {"text": "One letter.", "source": "EN", "target": "de-DE"},
                {"text": "Two letters.", "source": "en_GB", "target": "DE"})
    assert r.status_code == 200, r.text
    assert [p["target"] for p in r.json()["predictions"]] == ["de", "de"]


def test_auto_detects_the_source(server):
    r = predict(server.url, {"text": EN, "source": "auto", "target": "de"})
    assert r.status_code == 200, r.text
    out = r.json()["predictions"][0]
    assert out["source"] == "en" and out["detected"]["language"] == "en" and out["detected"]["probability"] > 0.5


def test_detected_language_without_a_pair_is_400(server):
    r = predict(server.url, {"text": "Le client écrit une longue lettre à la banque au sujet de chaque facture.",
                             "target": "de"})
    assert r.status_code == 400 and r.json()["code"] == "unsupported_pair"
    assert "'fr'" in r.json()["error"] and "set 'source'" in r.json()["error"]
    healthy(server)


def test_same_language_returns_the_text(server):
    r = predict(server.url, {"text": DE, "source": "auto", "target": "de"})
    assert r.status_code == 200 and r.json()["predictions"][0]["text"] == DE


def test_document_round_trip(server):
    d = docx.Document()
    d.add_heading("The bank sends the statement", level=1)
    d.add_paragraph("The customer reads every invoice.")
    buf = io.BytesIO()
    d.save(buf)
    r = predict(server.url, {"document": {"b64": base64.b64encode(buf.getvalue()).decode()},
                             "filename": "letter.docx", "source": "en", "target": "de"})
    assert r.status_code == 200, r.text
    out = r.json()["predictions"][0]
    assert out["filename"] == "letter.de.docx" and out["kind"] == "docx" and out["segments"] == 2
    got = docx.Document(io.BytesIO(base64.b64decode(out["document"]["b64"])))
    assert [p.style.name for p in got.paragraphs] == ["Heading 1", "Normal"]
    assert got.paragraphs[0].text != "The bank sends the statement"


def test_v2_text_input(server):
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["The bank sends it."]}],
            "parameters": {"source": "en", "target": "de"}}
    r = httpx.post(f"{server.url}/v2/models/translation/infer", json=body, timeout=60)
    assert r.status_code == 200, r.text
    import json

    result = json.loads(r.json()["outputs"][0]["data"][0])
    assert result["source"] == "en" and result["text"].strip()


def test_v2_json_instances_and_glossary_as_json_text(server):
    """The gateway's generic v2 routes send v1 instances as JSON text; v2 parameters carry a
    glossary as JSON text."""
    import json

    inst = {"text": "ACME Pay sends it.", "source": "en", "target": "de", "glossary": ["ACME Pay"]}
    body = {"inputs": [{"name": "json", "shape": [1], "datatype": "BYTES", "data": [json.dumps(inst)]}]}
    r = httpx.post(f"{server.url}/v2/models/translation/infer", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert "ACME Pay" in json.loads(r.json()["outputs"][0]["data"][0])["text"]
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["ACME Pay sends it."]}],
            "parameters": {"source": "en", "target": "de", "glossary": json.dumps({"ACME Pay": "ACME Pay"})}}
    r = httpx.post(f"{server.url}/v2/models/translation/infer", json=body, timeout=60)
    assert r.status_code == 200 and "ACME Pay" in json.loads(r.json()["outputs"][0]["data"][0])["text"]


@pytest.mark.parametrize("instance, status, code", [
    ({"text": "Hello there.", "source": "en", "target": "fr"}, 400, "unsupported_pair"),
    ({"text": "Hello there.", "source": "de", "target": "en"}, 400, "unsupported_pair"),
    ({"text": "Hello there.", "source": "en", "target": "xx"}, 400, "unknown_language"),
    ({"text": "Hello there.", "source": "en"}, 400, "missing_option"),
    ({"text": "Hello there.", "target": 5}, 400, "invalid_option"),
    ({"text": "   ", "target": "de"}, 400, "empty_input"),
    ({"text": 12, "target": "de"}, 400, "invalid_option"),
    ({"text": "!!! ...", "target": "de"}, 400, "language_not_detected"),
    ({"text": "x" * 20001, "source": "en", "target": "de"}, 413, "text_too_long"),
    ({"text": "Hi there.", "source": "en", "target": "de", "glossary": "ACME"}, 400, "invalid_glossary"),
    ({"target": "de"}, 400, "missing_input"),
    ({"document": {"b64": "%%%"}, "target": "de"}, 400, "invalid_base64"),
    ({"document": {"b64": base64.b64encode(b"%PDF-1.4 x").decode()}, "filename": "a.pdf", "target": "de"},
     415, "unsupported_document"),
    ({"document": {"b64": base64.b64encode(b"not a zip").decode()}, "filename": "a.docx", "target": "de"},
     422, "invalid_document"),
    ({"document": {"b64": base64.b64encode(b"a" * (1024 * 1024 + 1)).decode()}, "filename": "a.txt",
      "source": "en", "target": "de"}, 413, "document_too_large"),
])
def test_bad_input_is_4xx_and_the_service_stays_up(server, instance, status, code):
    r = predict(server.url, instance)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["error"]
    healthy(server)


def test_malformed_requests(server):
    for body in ({"instances": []}, {"instances": ["text"]}, {"nothing": 1}):
        r = httpx.post(f"{server.url}/v1/models/translation:predict", json=body, timeout=10)
        assert r.status_code == 400, r.text
    r = httpx.post(f"{server.url}/v1/models/translation:predict", json={"instances": [{"text": "a b c",
                   "target": "de", "source": "en"}] * 5}, timeout=10)
    assert r.status_code == 413 and r.json()["code"] == "too_many_instances"
    r = httpx.post(f"{server.url}/v1/models/translation:predict", content=b"{nope",
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 400
    healthy(server)


def test_without_a_model_the_service_is_live_but_not_ready(bare_server):
    url = bare_server.url
    assert httpx.get(f"{url}/v2/health/live", timeout=5).status_code == 200
    assert httpx.get(f"{url}/v2/health/ready", timeout=5).status_code == 200  # start scripts do not hang
    assert httpx.get(f"{url}/v2/models/translation/ready", timeout=5).status_code == 503
    doc = httpx.get(f"{url}/v1/models/translation/languages", timeout=5).json()
    assert doc["ready"] is False and "TRANSLATION_MODEL" in doc["message"] and doc["languages"] == []
    r = predict(url, {"text": "Hello there.", "target": "de"})
    assert r.status_code == 503 and r.json()["code"] == "model_not_configured"
    assert "TRANSLATION_MODEL" in r.json()["error"]
    assert httpx.get(f"{url}/v2/health/live", timeout=5).status_code == 200


def test_a_wrong_model_path_is_reported_not_crashed(tmp_path):
    from conftest import start

    with start({"TRANSLATION_MODEL": str(tmp_path / "missing")}) as proc:
        doc = httpx.get(f"{proc.url}/v1/models/translation/languages", timeout=5).json()
        assert doc["ready"] is False and "is not a directory" in doc["message"]
        r = predict(proc.url, {"text": "Hello there.", "target": "de"})
        assert r.status_code == 503 and "is not a directory" in r.json()["error"]
