"""Live-session parts without a server: signed tokens, per-key slots, upstream URLs."""

import pytest

from gateway.auth import Principal
from gateway.live import LiveError, LiveTokens, SessionSlots, upstream_ws_url
from gateway.routetable import Route

KEY = Principal("k_1", "test", ("transcriptions",))


def test_a_token_names_its_key_until_it_expires():
    tokens = LiveTokens("secret", ttl_s=60)
    token, exp = tokens.issue(KEY, "transcriptions", now=1000.0)
    assert exp == 1060.0 and token.startswith("lt_")
    assert tokens.check(token, "transcriptions", now=1059.0) == "k_1"
    with pytest.raises(LiveError) as err:
        tokens.check(token, "transcriptions", now=1061.0)
    assert (err.value.close_code, err.value.code) == (4401, "token_expired")


def test_a_token_is_bound_to_its_resource_and_its_signing_key():
    token, _ = LiveTokens("secret", 60).issue(KEY, "transcriptions")
    with pytest.raises(LiveError) as err:
        LiveTokens("secret", 60).check(token, "dictation")
    assert err.value.code == "insufficient_scope"
    with pytest.raises(LiveError) as err:
        LiveTokens("another secret", 60).check(token, "transcriptions")
    assert err.value.code == "invalid_token"
    body, sig = token.split(".")
    for forged in (body[:-2] + "xx." + sig, token + "x", "lt_", "not-a-token"):
        with pytest.raises(LiveError) as err:
            LiveTokens("secret", 60).check(forged, "transcriptions")
        assert err.value.code == "invalid_token"


def test_without_a_secret_each_process_signs_with_its_own():
    token, _ = LiveTokens("", 60).issue(KEY, "transcriptions")
    with pytest.raises(LiveError):
        LiveTokens("", 60).check(token, "transcriptions")


def test_slots_are_counted_per_key_and_freed():
    slots = SessionSlots(per_key=2)
    slots.acquire("a")
    slots.acquire("a")
    slots.acquire("b")
    with pytest.raises(LiveError) as err:
        slots.acquire("a")
    assert (err.value.close_code, err.value.code) == (4429, "too_many_sessions")
    slots.release("a")
    slots.acquire("a")
    for key in ("a", "a", "b"):
        slots.release(key)
    assert slots.open == {}


def test_the_upstream_websocket_url():
    route = Route(name="audio", kind="transcription", upstream="http://audio.ns.svc:8001/", model="audio")
    assert upstream_ws_url(route) == "ws://audio.ns.svc:8001/v1/models/audio/live"
    route = Route(name="audio", kind="transcription", upstream="https://x.example", model="whisper")
    assert upstream_ws_url(route) == "wss://x.example/v1/models/whisper/live"
