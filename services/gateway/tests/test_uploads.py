"""Uploads and formats: 413 before the body is read whole, 415 by content sniffing, 422/400 on
bad input, transcription formats, statement CSV, and the OpenAI client against the gateway."""

from __future__ import annotations

import csv
import io
import select
import socket
import time
from urllib.parse import urlparse

import httpx
import openai
import pytest
from conftest import ADMIN_KEY, MINIMAL_PDF, make_png, make_wav


def _err(r: httpx.Response) -> dict:
    return r.json()["error"]


def test_413_from_content_length_before_any_body_is_sent(gateway_sqlite):
    """Headers only: the gateway answers 413 without waiting for the 5 MB it was promised."""
    u = urlparse(gateway_sqlite.url)
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(b"POST /api/v1/transcriptions HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + ADMIN_KEY.encode() + b"\r\n"
                  b"Content-Type: multipart/form-data; boundary=zzz\r\nContent-Length: 5000000\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):  # the gateway closes the connection after a 413
            reply += chunk
    reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413")
    assert '"payload_too_large"' in reply and "1 MB" in reply


def test_413_while_streaming_a_chunked_upload(gateway_sqlite):
    """No Content-Length: bytes are counted as they arrive and the upload is cut off. The 413
    arrives while the client still has most of its 20 MB to send."""
    u = urlparse(gateway_sqlite.url)
    total = 20 * 1024 * 1024
    sent = 0
    reply = b""
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"POST /api/v1/transcriptions HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + ADMIN_KEY.encode() + b"\r\n"
                  b"Content-Type: multipart/form-data; boundary=zzz\r\nTransfer-Encoding: chunked\r\n\r\n")
        head = (b"--zzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                b"Content-Type: audio/wav\r\n\r\n" + make_wav(0.01))
        chunk = b"\x00" * 65536
        s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        s.settimeout(3)
        while sent < total:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:  # the answer came while we were still sending
                break
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:  # closed, reset, or the gateway stopped reading (timeout)
                break
            sent += len(chunk)
        try:
            while b"\r\n\r\n" not in reply:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
        except OSError:
            pass
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < total / 2, f"the gateway let {sent} bytes in before refusing"


@pytest.mark.parametrize("path,content,name", [
    ("/api/v1/transcriptions", MINIMAL_PDF, "statement.pdf"),
    ("/api/v1/transcriptions", b"just some text, not audio", "a.wav"),
    ("/api/v1/statements", make_wav(0.05), "audio.pdf"),
    ("/api/v1/statements", b"<html>hello</html>", "x.png"),
])
def test_415_by_sniffing_not_by_name_or_declared_type(gateway_sqlite, path, content, name):
    with gateway_sqlite.client() as c:
        r = c.post(path, files={"file": (name, content, "application/pdf")}, data={"model": "whisper-1"})
    assert r.status_code == 415 and _err(r)["code"] == "unsupported_media_type"


def test_400_empty_file_and_422_bad_fields(gateway_sqlite):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", b"", "audio/wav")})
        assert r.status_code == 400 and _err(r)["code"] == "empty_file"
        r = c.post("/api/v1/transcriptions", data={"language": "en"})
        assert r.status_code == 422 and "file" in _err(r)["message"]
        wav = {"file": ("a.wav", make_wav(0.05), "audio/wav")}
        for field, value in [("response_format", "xml"), ("beam_size", "99"), ("temperature", "hot"),
                             ("task", "summarise"), ("language", "not a language!")]:
            r = c.post("/api/v1/transcriptions", files=wav, data={field: value})
            assert r.status_code == 422, (field, r.text)
            assert _err(r)["code"] == "validation_error" and field in _err(r)["message"]
        r = c.post("/api/v1/statements", files={"file": ("s.pdf", MINIMAL_PDF, "application/pdf")},
                   data={"format": "xlsx"})
        assert r.status_code == 422
        r = c.post("/v1/audio/transcriptions", files=wav)  # model is required
        assert r.status_code == 422 and "model" in _err(r)["message"]
        r = c.post("/v1/audio/transcriptions", files=wav, data={"model": "no-such-model"})
        assert r.status_code == 404 and _err(r)["code"] == "model_not_found"
        r = c.post("/api/v1/transcriptions", content=b"garbage", headers={"content-type": "multipart/form-data"})
        assert r.status_code in (400, 422)
    assert gateway_sqlite.running


def test_transcription_options_reach_the_upstream(gateway_sqlite, upstreams):
    with gateway_sqlite.client() as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", make_wav(0.2), "audio/wav")},
                   data={"language": "de", "beam_size": "3", "vad_filter": "true", "initial_prompt": "Hi",
                         "temperature": "0.2", "word_timestamps": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "de" and body["segments"][0]["words"][0]["word"] == " hello"
    sent = upstreams["audio"].last()["last"]["instance"]
    assert sent == {"language": "de", "task": "transcribe", "beam_size": 3, "vad_filter": True,
                    "initial_prompt": "Hi", "temperature": 0.2, "word_timestamps": True}


def test_transcription_formats(gateway_sqlite):
    wav = {"file": ("a.wav", make_wav(0.2), "audio/wav")}
    with gateway_sqlite.client() as c:
        text = c.post("/api/v1/transcriptions", files=wav, data={"response_format": "text"})
        srt = c.post("/api/v1/transcriptions", files=wav, data={"response_format": "srt"})
        vtt = c.post("/api/v1/transcriptions", files=wav, data={"response_format": "vtt"})
        verbose = c.post("/api/v1/transcriptions", files=wav, data={"response_format": "verbose_json"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "hello world second segment\n"
    assert srt.text.startswith("1\n00:00:00,000 --> 00:00:01,000\nhello world\n")
    assert "2\n00:00:01,000 --> 01:02:03,500\nsecond segment\n" in srt.text
    assert vtt.text.startswith("WEBVTT\n") and "00:00:01.000 --> 01:02:03.500" in vtt.text
    assert vtt.headers["content-type"].startswith("text/vtt")
    v = verbose.json()
    assert v["task"] == "transcribe" and v["language"] == "english" and len(v["segments"]) == 2


def test_statement_json_and_csv(gateway_sqlite, upstreams):
    with gateway_sqlite.client() as c:
        j = c.post("/api/v1/statements", files={"file": ("s.pdf", MINIMAL_PDF, "application/pdf")},
                   data={"password": "pw", "locale": "de-DE", "date_order": "DMY"})
        assert j.status_code == 200, j.text
        assert j.json()["statement"]["closing_balance"] == "88.00"
        assert upstreams["vlm"].last()["last"]["instance"] == {"password": "pw", "locale": "de-DE",
                                                               "date_order": "DMY"}
        png = c.post("/api/v1/statements", files={"file": ("s.png", make_png(), "image/png")}, data={"format": "csv"})
    assert png.status_code == 200 and png.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(png.text)))
    assert rows[0] == ["date", "description", "amount", "balance", "type", "page", "balance_ok", "problem"]
    assert rows[1] == ["2024-01-05", 'Coffee, "Bean" shop', "-12.00", "88.00", "debit", "1", "true", ""]


def test_statement_format_as_query_parameter(gateway_sqlite, upstreams):
    """`?format=csv` works like the form field (curl users write it either way); the form wins."""
    files = {"file": ("s.png", make_png(), "image/png")}
    with gateway_sqlite.client() as c:
        q = c.post("/api/v1/statements?format=csv", files=files)
        both = c.post("/api/v1/statements?format=csv", files=files, data={"format": "json"})
        bad = c.post("/api/v1/statements?format=xml", files=files)
    assert q.status_code == 200 and q.headers["content-type"].startswith("text/csv"), q.text
    assert q.text.splitlines()[0].startswith("date,description,amount")
    assert both.status_code == 200 and both.json()["statement"]["closing_balance"] == "88.00"
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_openai_client_against_the_gateway(gateway_sqlite):
    client = openai.OpenAI(base_url=f"{gateway_sqlite.url}/v1", api_key=ADMIN_KEY, max_retries=0)
    wav = ("speech.wav", make_wav(0.3), "audio/wav")
    t = client.audio.transcriptions.create(model="whisper-1", file=wav)
    assert t.text.strip() == "hello world second segment"
    text = client.audio.transcriptions.create(model="whisper-1", file=wav, response_format="text")
    assert isinstance(text, str) and "hello world" in text
    verbose = client.audio.transcriptions.create(model="whisper-1", file=wav, response_format="verbose_json",
                                                 timestamp_granularities=["word", "segment"], language="en")
    assert verbose.language == "english" and verbose.words[0].word == " hello"
    assert verbose.segments[1].end == 3723.5
    tr = client.audio.translations.create(model="whisper-1", file=wav)
    assert tr.text.strip() == "translated text"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{gateway_sqlite.url}/v1", api_key="wrong-key-123", max_retries=0) \
            .audio.transcriptions.create(model="whisper-1", file=wav)
    with pytest.raises(openai.NotFoundError):
        client.audio.transcriptions.create(model="dall-e-3", file=wav)


def test_service_stays_up_after_bad_inputs(gateway_sqlite):
    start = time.monotonic()
    with gateway_sqlite.client() as c:
        for payload in [b"\x00" * 10, b"--x\r\n", b"{}" * 1000]:
            c.post("/api/v1/statements", content=payload, headers={"content-type": "multipart/form-data; boundary=x"})
            c.post("/api/v1/echo", content=payload, headers={"content-type": "application/json"})
        assert c.get("/healthz").status_code == 200
    assert time.monotonic() - start < 10
