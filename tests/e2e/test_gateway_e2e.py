"""The gateway in front of the real audio-service and vlm-service: transcriptions (native and
the OpenAI client), statements (JSON and CSV), jobs, and failure isolation when audio-service is
stopped and started again, all without restarting the gateway."""

from __future__ import annotations

import csv
import io
import json
import time

import httpx
import jiwer
import openai
from contract import conforms


def client(gateway, key: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=300)


def test_health_lists_the_real_upstreams_ready(gateway, keys, audio_service, vlm_service, translation_service,
                                               docqa_service):
    health = httpx.get(f"{gateway.url}/api/v1/health", timeout=30).json()
    conforms(health, "HealthOut")
    ups = {u["name"]: u for u in health["upstreams"]}
    assert all(ups[n]["ready"] for n in ("audio", "vlm", "translation", "document-qa")), health
    assert health["status"] == "ok"
    # each upstream's start-up GPU check: device and budget
    audio, vlm = ups["audio"]["device"], ups["vlm"]["device"]
    assert audio["requested"] == "auto" and audio["budget_gb"] == 2 and audio["device"] in ("cpu", "cuda")
    assert audio["verdict"] == ("ready on GPU" if audio["device"] == "cuda" else "will run on CPU")
    assert vlm == {"device": "cpu", "requested": "auto", "budget_gb": None, "verdict": "will run on CPU",
                   "gpu": None, "warnings": []}  # no VLM_MODEL: nothing asks for the GPU


def test_translation_through_the_gateway(gateway, keys, translation_service):
    with client(gateway, keys["all"]) as c:
        r = c.post("/api/v1/translations", json={"text": "The bank sends the statement.\n\n- One item.",
                                                  "target": "de"})
        langs = c.get("/api/v1/translations/languages")
    assert r.status_code == 200, r.text
    conforms(r.json(), "TranslationResult")
    conforms(langs.json(), "TranslationLanguages")
    assert r.json()["source"] == "en" and r.json()["text"].split("\n")[2].startswith("- ")
    assert langs.json()["pairs"] == [["en", "de"]]


def test_transcription_through_the_gateway(gateway, keys, audio_service, speech):
    wav, text = speech
    with client(gateway, keys["all"]) as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("speech.wav", wav, "audio/wav")},
                   data={"language": "en", "word_timestamps": "true"}, headers={"x-request-id": "e2e-transcription-1"})
        assert r.status_code == 200, r.text
        body = r.json()
        conforms(body, "TranscriptionResult")
        assert body["segments"][0]["words"], body  # the Word schema is checked on real words
        assert r.headers["x-request-id"] == "e2e-transcription-1"
        srt = c.post("/api/v1/transcriptions", files={"file": ("speech.wav", wav, "audio/wav")},
                     data={"language": "en", "response_format": "srt"})
    assert jiwer.wer(text, body["text"].lower().strip(" .")) < 0.5, body["text"]
    assert body["language"] == "en" and body["segments"]
    assert srt.status_code == 200 and srt.text.startswith("1\n00:00:")


def test_openai_client_against_gateway_and_audio_service(gateway, keys, audio_service, speech):
    wav, text = speech
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=300)
    result = oai.audio.transcriptions.create(model="whisper-1", file=("speech.wav", wav, "audio/wav"))
    assert jiwer.wer(text, result.text.lower().strip(" .")) < 0.5, result.text
    raw = oai.audio.transcriptions.with_raw_response.create(model="whisper-1", file=("speech.wav", wav, "audio/wav"),
                                                            response_format="verbose_json", language="en")
    conforms(json.loads(raw.http_response.text), "VerboseTranscription")
    verbose = raw.parse()
    assert verbose.duration > 1 and verbose.segments


def test_statement_json_and_csv(gateway, keys, vlm_service, statement_pdf):
    pdf, truth = statement_pdf
    with client(gateway, keys["statements"]) as c:
        r = c.post("/api/v1/statements", files={"file": ("s.pdf", pdf, "application/pdf")})
        assert r.status_code == 200, r.text
        doc = r.json()
        conforms(doc, "StatementResult")
        assert len(doc["transactions"]) == len(truth["transactions"])
        assert all(isinstance(t["amount"], str) for t in doc["transactions"])
        r = c.post("/api/v1/statements", files={"file": ("s.pdf", pdf, "application/pdf")}, data={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["date", "description", "amount", "balance", "type", "page", "balance_ok", "problem"]
        assert len(rows) == len(truth["transactions"]) + 1
        assert c.post("/api/v1/transcriptions", files={"file": ("a.pdf", pdf)}).status_code == 403


def test_async_job_with_events(gateway, keys, audio_service, speech):
    wav, _ = speech
    with client(gateway, keys["all"]) as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("speech.wav", wav, "audio/wav")},
                   headers={"Prefer": "respond-async"})
        assert r.status_code == 202, r.text
        conforms(r.json(), "JobAccepted")
        location = r.headers["location"]
        types = []
        with c.stream("GET", location + "/events") as s:
            for line in s.iter_lines():
                if line.startswith("event: "):
                    types.append(line[7:])
        job = c.get(location).json()
        exports = {fmt: c.get(location + "/result", params={"format": fmt}) for fmt in ("text", "srt", "vtt")}
    assert types[0] == "queued" and types[-1] == "succeeded", types
    assert job["state"] == "succeeded" and "fox" in job["result"]["text"].lower()
    # the finished job's real transcript in each export format, as downloads named after the upload
    cues = [" ".join(s["text"].split()) for s in job["result"]["segments"] if s["text"].strip()]
    for fmt, r in exports.items():
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"] == f'attachment; filename="speech.{"txt" if fmt == "text" else fmt}"'
    assert exports["text"].text == job["result"]["text"].strip() + "\n"
    srt_blocks = exports["srt"].text.strip("\n").split("\n\n")
    assert [b.split("\n", 2)[2] for b in srt_blocks] == cues and srt_blocks[0].startswith("1\n00:00:00,")
    assert exports["vtt"].text.startswith("WEBVTT\n\n00:00:00.") and exports["vtt"].text.count(" --> ") == len(cues)
    conforms(job, "JobDetail")
    conforms(job["result"], "TranscriptionResult")


def test_audio_down_fails_fast_statements_keep_answering_then_recovers(gateway, keys, audio_service, vlm_service,
                                                                       speech, statement_pdf):
    wav, _ = speech
    pdf, _ = statement_pdf
    files = {"file": ("speech.wav", wav, "audio/wav")}
    with client(gateway, keys["all"]) as c:
        audio_service.stop()
        try:
            for _ in range(4):
                start = time.monotonic()
                r = c.post("/api/v1/transcriptions", files=files)
                assert r.status_code == 503, r.text
                assert r.headers.get("retry-after")
                assert time.monotonic() - start < 2.0
            assert r.json()["error"]["code"] == "upstream_unavailable"
            r = c.post("/api/v1/statements", files={"file": ("s.pdf", pdf, "application/pdf")})
            assert r.status_code == 200, r.text
            health = {u["name"]: u for u in httpx.get(f"{gateway.url}/api/v1/health", timeout=30).json()["upstreams"]}
            assert health["audio"]["live"] is False and health["vlm"]["ready"] is True
        finally:
            audio_service.start()  # same port, the gateway is not restarted
        deadline = time.monotonic() + 30
        while True:
            r = c.post("/api/v1/transcriptions", files=files)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.status_code == 200, r.text
        assert "fox" in json.dumps(r.json()).lower()
