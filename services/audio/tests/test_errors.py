"""Bad input gets a 400 with a clear message and a stable code; the service stays up."""

import httpx
import pytest

from conftest import MAX_DURATION_S, predict
from speech import recall, sentence


def good(server, clips) -> None:
    assert httpx.get(f"{server.url}/v2/health/live", timeout=5).status_code == 200
    r = predict(server.url, clips["s0"].read_bytes(), beam_size=1)
    assert r.status_code == 200 and recall(sentence(0), r.json()["predictions"][0]["text"]) >= 0.5


def post(server, body) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/models/audio:predict", json=body, timeout=60)


@pytest.mark.parametrize(
    "make, code, phrase",
    [
        (lambda c: "", "empty_input", "empty"),
        (lambda c: "%%%not-base64%%%", "invalid_base64", "base64"),
        (lambda c: b"this is plain text, not a sound file at all", "not_audio", "not audio"),
        (lambda c: bytes(4096), "not_audio", "not audio"),
        (lambda c: (c["s0"].parent / "long.wav").read_bytes()[:200_000], "truncated_audio", "truncated"),
        (lambda c: c["s0"].read_bytes()[:44], "truncated_audio", "truncated"),
    ],
    ids=["empty", "invalid_base64", "text", "zeros", "truncated_wav", "header_only"],
)
def test_bad_audio(server, clips, make, code, phrase):
    r = predict(server.url, make(clips))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert phrase in r.json()["error"].lower()


def test_truncated_mp3(server, clips, tmp_path):
    from audio_service import testaudio

    mp3 = testaudio.convert(clips["long"], tmp_path / "long.mp3").read_bytes()
    r = predict(server.url, mp3[: len(mp3) // 3])
    assert r.status_code == 400 and r.json()["code"] == "truncated_audio", r.text


def test_audio_longer_than_limit(server, clips):
    r = predict(server.url, clips["too_long"].read_bytes())
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "audio_too_long"
    assert f"limit is {MAX_DURATION_S} s" in r.json()["error"]


@pytest.mark.parametrize(
    "options, code, phrase",
    [
        ({"language": "xx"}, "unknown_language", "unknown language code 'xx'"),
        ({"language": "klingon"}, "unknown_language", "unknown"),
        ({"language": "fr"}, "english_only_model", "english-only"),
        ({"task": "translate"}, "english_only_model", "english-only"),
        ({"task": "summarise"}, "invalid_option", "'task'"),
        ({"beam_size": "five"}, "invalid_option", "'beam_size'"),
        ({"beam_size": 0}, "invalid_option", "'beam_size'"),
        ({"word_timestamps": "yes"}, "invalid_option", "'word_timestamps'"),
        ({"vad_filter": 1}, "invalid_option", "'vad_filter'"),
        ({"temperature": "hot"}, "invalid_option", "'temperature'"),
        ({"temperature": 3.0}, "invalid_option", "'temperature'"),
        ({"initial_prompt": 42}, "invalid_option", "'initial_prompt'"),
        ({"language": 7}, "invalid_option", "'language'"),
    ],
)
def test_bad_options(server, clips, options, code, phrase):
    r = predict(server.url, clips["s0"].read_bytes(), **options)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert phrase in r.json()["error"].lower()


@pytest.mark.parametrize(
    "body, code",
    [
        ({"instances": []}, "missing_input"),
        ({"instances": [{"language": "en"}]}, "missing_input"),
        ({"instances": [{"audio": {"data": "AAAA"}}]}, "missing_input"),
        ({"instances": [{"audio": "AAAA"}]}, "not_audio"),
        ({"instances": [{"audio": {"b64": 12}}]}, "invalid_base64"),
    ],
)
def test_malformed_requests(server, body, code):
    r = post(server, body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code


def test_invalid_json_is_400(server):
    r = httpx.post(f"{server.url}/v1/models/audio:predict", content=b"{nope",
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 400


def test_service_stays_up_after_bad_input(server, clips):
    for data in (b"", b"junk" * 100, clips["s0"].read_bytes()[:44]):
        predict(server.url, data if data else "")
    good(server, clips)
