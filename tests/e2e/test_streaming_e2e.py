"""Streamed transcriptions through the real gateway and the real audio-service, with real speech
(espeak-ng + sox): the OpenAI client's stream iterator, the native event stream (segments,
words, progress), a chunked client that goes away, silence, a key without the scope, and
failures before and during the stream."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import jiwer
import openai
import pytest
from contract import conforms
from kit.testing import prometheus_sample, sse_events, wait_for

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to the finance team by Friday.",
    "The weather today is sunny with a light breeze from the west.",
    "She bought fresh bread and cheese at the market on her way home.",
    "Remember to turn off the lights when you leave the office.",
]
NORMALISE = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                           jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])


def wer(refs: list[str], hyps: list[str]) -> float:
    return jiwer.wer(refs, hyps, reference_transform=NORMALISE, hypothesis_transform=NORMALISE)


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> dict:
    """One WAV per sentence, all of them in turn three times (about a minute), and 6 s of silence."""
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed (apt-get install espeak-ng sox)")
    d = tmp_path_factory.mktemp("spoken")
    out = {}
    for i, text in enumerate(SENTENCES):
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(d / f"raw{i}.wav"), text], check=True, capture_output=True)
        sox(str(d / f"raw{i}.wav"), "-r", "16000", "-c", "1", "-b", "16", str(d / f"s{i}.wav"))
        out[i] = (d / f"s{i}.wav").read_bytes()
    sox(*[str(d / f"s{i}.wav") for _ in range(3) for i in range(len(SENTENCES))], str(d / "long.wav"))
    out["long"] = (d / "long.wav").read_bytes()
    sox("-n", "-r", "16000", "-c", "1", "-b", "16", str(d / "silence.wav"), "trim", "0", "6")
    out["silence"] = (d / "silence.wav").read_bytes()
    return out


def native_stream(gateway, key: str, wav: bytes, headers: dict | None = None, **form) -> list[tuple[str, dict]]:
    with httpx.stream("POST", f"{gateway.url}/api/v1/transcriptions", timeout=300,
                      headers={"Authorization": f"Bearer {key}", **(headers or {})},
                      files={"file": ("speech.wav", wav, "audio/wav")}, data=form) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return sse_events(r.iter_lines())


def test_openai_client_streams_deltas_then_the_full_text(gateway, keys, audio_service, spoken):
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=300)
    refs, hyps = [], []
    for i, sentence in enumerate(SENTENCES):
        stream = oai.audio.transcriptions.create(model="whisper-1", file=(f"s{i}.wav", spoken[i], "audio/wav"),
                                                 stream=True, language="en")
        events = list(stream)
        types = [e.type for e in events]
        assert types[-1] == "transcript.text.done" and set(types[:-1]) == {"transcript.text.delta"}, types
        assert "".join(e.delta for e in events[:-1]) == events[-1].text
        refs.append(sentence)
        hyps.append(events[-1].text)
    rate = wer(refs, hyps)
    print(f"OpenAI stream WER over {len(refs)} sentences: {rate:.3f}")
    assert rate <= 0.25, list(zip(refs, hyps))


def test_openai_stream_of_a_long_recording_sends_many_deltas(gateway, keys, audio_service, spoken):
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=300)
    events = list(oai.audio.transcriptions.create(model="whisper-1", file=("long.wav", spoken["long"], "audio/wav"),
                                                  stream=True, response_format="text"))
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    assert len(deltas) >= 5
    assert wer([" ".join(SENTENCES * 3)], [events[-1].text]) <= 0.3, events[-1].text


@pytest.mark.parametrize("how", ["form", "accept"])
def test_native_stream_sends_segments_with_words_and_progress(gateway, keys, audio_service, spoken, how):
    form = {"language": "en", "word_timestamps": "true"}
    if how == "form":
        events = native_stream(gateway, keys["all"], spoken["long"], stream="true", **form)
    else:
        events = native_stream(gateway, keys["all"], spoken["long"], headers={"Accept": "text/event-stream"}, **form)
    names = [n for n, _ in events]
    assert names[0] == "info" and names[-1] == "done" and set(names[1:-1]) == {"segment"}, names
    info, done = events[0][1], events[-1][1]
    segments = [d for n, d in events if n == "segment"]
    assert len(segments) >= 5 and info["language"] == "en"
    progress = [s["progress"] for s in segments]
    assert progress == sorted(progress) and 0 < progress[0] and progress[-1] >= 0.9
    assert all(s["duration"] == info["duration"] == done["duration"] for s in segments)
    assert [s["segment"] for s in segments] == done["segments"]
    assert all(s["segment"]["words"] for s in segments if s["segment"]["text"])
    assert wer([" ".join(SENTENCES * 3)], [done["text"]]) <= 0.3, done["text"]
    for name, data in events:  # each event's data is what the OpenAPI document says
        conforms(data, {"info": "TranscriptionStreamInfo", "segment": "TranscriptionStreamSegment",
                        "done": "TranscriptionResult"}[name])


def test_a_silent_recording_streams_to_an_end(gateway, keys, audio_service, spoken):
    events = native_stream(gateway, keys["all"], spoken["silence"], stream="true")
    assert events[0][0] == "info" and events[-1][0] == "done"
    assert len(events[-1][1]["text"]) <= 20
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=120)
    out = list(oai.audio.transcriptions.create(model="whisper-1", file=("s.wav", spoken["silence"], "audio/wav"),
                                               stream=True))
    assert out[-1].type == "transcript.text.done" and len(out[-1].text) <= 20


def test_a_key_without_the_scope_gets_403_not_a_stream(gateway, keys, audio_service, spoken):
    r = httpx.post(f"{gateway.url}/api/v1/transcriptions", headers={"Authorization": f"Bearer {keys['statements']}"},
                   files={"file": ("s.wav", spoken[0], "audio/wav")}, data={"stream": "true"}, timeout=60)
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["statements"], max_retries=0, timeout=60)
    with pytest.raises(openai.PermissionDeniedError):
        oai.audio.transcriptions.create(model="whisper-1", file=("s.wav", spoken[0], "audio/wav"), stream=True)


def test_errors_before_the_stream_have_their_status(gateway, keys, audio_service, spoken):
    auth = {"Authorization": f"Bearer {keys['all']}"}
    not_audio = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4  # a WAV header, then garbage
    cases = [
        (("x.wav", not_audio, "audio/wav"), {"stream": "true"}, 400),
        (("s.wav", spoken[0][: len(spoken[0]) // 3], "audio/wav"), {"stream": "true"}, 400),  # truncated
        (("s.wav", spoken[0], "audio/wav"), {"stream": "true", "response_format": "srt"}, 400),
        (("s.wav", spoken[0], "audio/wav"), {"stream": "true", "language": "de"}, 400),  # English-only model
    ]
    for file, form, status in cases:
        r = httpx.post(f"{gateway.url}/api/v1/transcriptions", headers=auth, files={"file": file}, data=form,
                       timeout=60)
        assert r.status_code == status, (form, r.text)
        assert r.headers["content-type"].startswith("application/json") and r.json()["error"]["code"]
    r = httpx.post(f"{gateway.url}/api/v1/transcriptions?async=true", headers=auth,
                   files={"file": ("s.wav", spoken[0], "audio/wav")}, data={"stream": "true"}, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["code"] == "stream_and_async"
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=60)
    with pytest.raises(openai.BadRequestError):
        oai.audio.transcriptions.create(model="whisper-1", file=("x.wav", not_audio, "audio/wav"), stream=True)
    # the gateway and the service carry on
    assert native_stream(gateway, keys["all"], spoken[1], stream="true")[-1][0] == "done"


def test_a_chunked_client_that_goes_away_stops_the_work_upstream(gateway, keys, audio_service, spoken):
    """The upload arrives in real-time-sized chunks (sped up 20x); the client leaves after the
    first segment; the audio-service stops that transcription before its next segment."""
    before = prometheus_sample(audio_service.url, "aip_inference_errors_total", model="audio", code="client_closed_request")
    wav = spoken["long"]
    boundary = "streamtestboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"stream\"\r\n\r\ntrue\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        yield head
        step = 32000  # one second of 16 kHz PCM16
        for i in range(0, len(wav), step):
            yield wav[i:i + step]
            time.sleep(0.05)
        yield tail

    with httpx.stream("POST", f"{gateway.url}/api/v1/transcriptions", content=chunks(), timeout=300,
                      headers={"Authorization": f"Bearer {keys['all']}",
                               "Content-Type": f"multipart/form-data; boundary={boundary}"}) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line == "event: segment":
                break
        else:
            raise AssertionError("no segment arrived")
    wait_for(lambda: prometheus_sample(audio_service.url, "aip_inference_errors_total", model="audio",
                                       code="client_closed_request") > before
             and prometheus_sample(audio_service.url, "aip_inference_in_flight", model="audio") == 0,
             timeout=30, every=0.1, what="the audio-service to stop transcribing after the client left")
    wait_for(lambda: prometheus_sample(gateway.url, "gateway_upstream_inflight", upstream="audio") == 0,
             timeout=5, every=0.1, what="the gateway to stop counting the stream as in flight")


def test_an_upstream_that_dies_mid_stream_ends_it_with_an_error_event(gateway, keys, audio_service, spoken):
    oai = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=keys["all"], max_retries=0, timeout=120)
    try:
        with httpx.stream("POST", f"{gateway.url}/api/v1/transcriptions", timeout=120,
                          headers={"Authorization": f"Bearer {keys['all']}"},
                          files={"file": ("long.wav", spoken["long"], "audio/wav")}, data={"stream": "true"}) as r:
            assert r.status_code == 200
            lines = []
            for line in r.iter_lines():
                lines.append(line)
                if line == "event: segment" and audio_service.running:
                    audio_service.kill()
        events = sse_events(lines)
        assert events[-1][0] == "error", [n for n, _ in events]
        assert events[-1][1]["error"]["code"] in ("upstream_disconnected", "upstream_timeout")
        assert "done" not in [n for n, _ in events]
    finally:
        if not audio_service.running:
            audio_service.start()
    # the OpenAI client raises (not hangs) on the error event of a stream that breaks the same way
    stream = oai.audio.transcriptions.create(model="whisper-1", file=("long.wav", spoken["long"], "audio/wav"),
                                             stream=True)
    with pytest.raises(openai.APIError):
        for e in stream:
            if e.type == "transcript.text.delta" and audio_service.running:
                audio_service.kill()
    audio_service.start()
    wait_for(lambda: {u["name"]: u for u in httpx.get(f"{gateway.url}/api/v1/health", timeout=10).json()["upstreams"]}
             ["audio"]["ready"], timeout=60, what="the restarted audio-service to be ready")
    assert native_stream(gateway, keys["all"], spoken[0], stream="true")[-1][0] == "done"
