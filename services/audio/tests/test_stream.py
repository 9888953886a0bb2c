"""`POST /v1/models/audio:stream`: segments as server-sent events, from the real service with
real speech; batched inference for long audio; errors, silence and a client that goes away."""

import subprocess

import httpx
import pytest

from audio_service import testaudio
from conftest import b64
from kit.testing import prometheus_sample, sse_events, wait_for
from speech import recall, sentence, wer


def stream_request(url: str, data: bytes, **options) -> dict:
    return {"method": "POST", "url": f"{url}/v1/models/audio:stream",
            "json": {"instances": [{"audio": {"b64": b64(data)}, **options}]}}


def stream(url: str, data: bytes, timeout: float = 300, **options) -> list[tuple[str, dict]]:
    with httpx.stream(**stream_request(url, data, **options), timeout=timeout) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return sse_events(r.iter_lines())


def check_order(events, duration: float) -> dict:
    """info first, then segments in time order with rising progress, then done; return done."""
    names = [e for e, _ in events]
    assert names[0] == "info" and names[-1] == "done" and set(names[1:-1]) <= {"segment"}, names
    info, done = events[0][1], events[-1][1]
    assert info["duration"] == pytest.approx(duration, abs=0.05)
    segments = [d for e, d in events if e == "segment"]
    last = 0.0
    for i, s in enumerate(segments):
        assert s["segment"]["id"] == i
        assert s["duration"] == info["duration"]
        assert s["decoded_s"] == pytest.approx(min(s["segment"]["end"], duration), abs=0.01)
        assert 0 <= s["progress"] <= 1 and s["progress"] >= last - 1e-9
        last = s["progress"]
    assert [s["segment"] for s in segments] == done["segments"]
    assert done["text"] == " ".join(s["segment"]["text"] for s in segments if s["segment"]["text"])
    return done


def test_streamed_sentences_are_accurate_and_in_order(server, clips):
    refs, hyps = [], []
    for i in range(len(testaudio.SENTENCES)):
        data = clips[f"s{i}"].read_bytes()
        events = stream(server.url, data, language="en")
        done = check_order(events, (len(data) - 44) / 32000)
        assert events[0][1]["language"] == "en" and events[0][1]["batched"] is False
        refs.append(sentence(i))
        hyps.append(done["text"])
    rate = wer(refs, hyps)
    print(f"streamed WER over {len(refs)} sentences: {rate:.3f}")
    assert rate <= 0.25, list(zip(refs, hyps))


def test_long_clip_streams_many_segments_with_words(server, clips):
    events = stream(server.url, clips["long"].read_bytes(), word_timestamps=True, beam_size=1)
    done = check_order(events, 60.0)
    segments = [d for e, d in events if e == "segment"]
    assert len(segments) >= 8  # one per sentence or so, each sent as it was decoded
    assert segments[-1]["progress"] >= 0.9
    words = [w for s in done["segments"] for w in s["words"]]
    assert len(words) > 80 and all(w["start"] <= w["end"] for w in words)


def test_batched_long_audio_keeps_accuracy_and_word_timestamps(server, tmp_path):
    wav, reference = testaudio.spoken_rounds(tmp_path / "rounds.wav", 2)
    data = wav.read_bytes()
    duration = (len(data) - 44) / 32000
    sequential = check_order(stream(server.url, data, batched=False, beam_size=1), duration)
    events = stream(server.url, data, batched=True, beam_size=1, word_timestamps=True)
    assert events[0][1]["batched"] is True
    batched = check_order(events, duration)
    seq_wer, bat_wer = wer([reference], [sequential["text"]]), wer([reference], [batched["text"]])
    print(f"{duration:.0f} s: WER sequential {seq_wer:.3f}, batched {bat_wer:.3f}")
    assert bat_wer <= 0.3 and bat_wer <= seq_wer + 0.05, batched["text"]
    words = [w for s in batched["segments"] for w in s["words"]]
    assert len(words) >= 0.8 * len(reference.split())
    for s in batched["segments"]:
        assert 0 <= s["start"] < s["end"] <= duration + 0.1
        for w in s["words"]:
            assert s["start"] - 0.5 <= w["start"] <= w["end"] <= s["end"] + 0.5


def test_predict_takes_batched_too(server, clips):
    r = httpx.post(f"{server.url}/v1/models/audio:predict", timeout=300, json={"instances": [
        {"audio": {"b64": b64(clips["s1"].read_bytes())}, "batched": True}]})
    assert r.status_code == 200, r.text
    assert recall(sentence(1), r.json()["predictions"][0]["text"]) >= 0.6


@pytest.mark.parametrize("batched", [False, True])
def test_a_silent_recording_streams_to_an_end(server, tmp_path, batched):
    wav = tmp_path / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(wav), "trim", "0", "8"], check=True)
    events = stream(server.url, wav.read_bytes(), batched=batched, timeout=120)
    done = check_order(events, 8.0)
    assert len(done["text"]) <= 20  # nothing, or at most a stray hallucinated word


@pytest.mark.parametrize("options, code", [({}, "not_audio"), ({"beam_size": "five"}, "invalid_option"),
                                           ({"batched": "yes"}, "invalid_option")])
def test_errors_before_the_stream_are_json_with_a_status(server, clips, options, code):
    data = b"not audio at all" if code == "not_audio" else clips["s0"].read_bytes()
    r = httpx.request(**stream_request(server.url, data, **options), timeout=60)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == code


def test_bad_bodies_are_400(server):
    r = httpx.post(f"{server.url}/v1/models/audio:stream", content=b"{not json", timeout=30)
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    r = httpx.post(f"{server.url}/v1/models/audio:stream", json={"instances": []}, timeout=30)
    assert r.status_code == 400


def test_a_client_that_goes_away_stops_the_work(server, clips):
    before = prometheus_sample(server.url, "aip_inference_errors_total", model="audio", code="client_closed_request")
    with httpx.stream(**stream_request(server.url, clips["long"].read_bytes(), beam_size=5), timeout=120) as r:
        assert r.status_code == 200
        seen = []
        for line in r.iter_lines():
            if line.startswith("event: segment"):
                seen.append(line)
                break
        assert seen
    # the worker notices before its next segment and stops, long before the clip's 60 s are done
    wait_for(lambda: prometheus_sample(server.url, "aip_inference_errors_total", model="audio",
                                       code="client_closed_request") > before
             and prometheus_sample(server.url, "aip_inference_in_flight", model="audio") == 0,
             timeout=30, every=0.1, what="the transcription to stop after the client left")
    # and the service answers the next request
    events = stream(server.url, clips["s0"].read_bytes())
    assert events[-1][0] == "done"


def test_a_long_stream_carries_keepalive_pings(server, clips):
    """`AUDIO_STREAM_KEEPALIVE_S` (0.5 s here): `: ping` comments between the events of a stream
    that lasts longer than that; they change nothing in the events."""
    with httpx.stream(**stream_request(server.url, clips["long"].read_bytes(), beam_size=5), timeout=300) as r:
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
        lines = list(r.iter_lines())
    pings = [line for line in lines if line.startswith(":")]
    assert pings and set(pings) == {": ping"}, pings
    check_order(sse_events(lines), 60.0)


def test_batched_is_chosen_by_request_then_by_length():
    from audio_service.batched import use_batched

    assert use_batched(None, 599.0, 600) is False and use_batched(None, 600.0, 600) is True
    assert use_batched(False, 3600.0, 600) is False and use_batched(True, 1.0, 600) is True
    assert use_batched(None, 3600.0, 0) is False  # 0: only when asked


def test_a_failure_after_the_first_event_ends_the_stream_with_an_error_event():
    """The stream's own logic, with a model whose decoder fails after one segment (the way a
    CUDA or CTranslate2 error would surface mid-way): an `error` event closes the stream."""
    import asyncio
    from types import SimpleNamespace

    from kit_kserve.concurrency import BoundedExecutor
    from kit_kserve.errors import InvalidInput
    from audio_service.segments import Transcription
    from audio_service.stream import SegmentStream

    def segments():
        yield {"id": 0, "start": 0.0, "end": 1.0, "text": "hello"}
        raise RuntimeError("decoder failed")

    model = SimpleNamespace(name="audio", executor=BoundedExecutor(1, 1),
                            transcribe_stream=lambda *a: Transcription("en", 1.0, 2.0, False, segments()))

    async def run(model):
        session = SegmentStream(model)
        first = await session.start(None, 2.0, None)
        return [event.encode() async for event in session.events(first)]

    body = b"".join(asyncio.run(run(model))).decode()
    events = sse_events(body.split("\n"))
    assert [e for e, _ in events] == ["info", "segment", "error"]
    assert events[1][1]["progress"] == 0.5
    assert events[2][1] == {"error": "internal error", "code": "internal"}

    def refuse(*a):
        raise InvalidInput("bad", code="x")

    with pytest.raises(InvalidInput):  # a failure before the first event is the request's error
        asyncio.run(run(SimpleNamespace(name="audio", executor=BoundedExecutor(1, 1), transcribe_stream=refuse)))
