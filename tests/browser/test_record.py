"""Record from the microphone: Chromium's fake capture device plays a spoken WAV as the mic."""

import re
import time
import wave
from contextlib import contextmanager

from playwright.sync_api import expect

MIC_TEXT = "Recording from the microphone works."
LIVE_TEXT = ("The weather today is sunny with a light breeze from the west. "
             "Please send the quarterly report to the finance team by Friday.")


def recall(reference: str, heard: str) -> float:
    """Share of the reference's words that were heard (a small model's exact words vary)."""
    ref = set(re.findall(r"[a-z]+", reference.lower()))
    return len(ref & set(re.findall(r"[a-z]+", heard.lower()))) / len(ref)


def wait_for_text(locator, ok, timeout_s: float) -> str:
    """Poll the locator's text until `ok(text)`; the last text either way."""
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = " ".join(locator.all_inner_texts())
        if ok(text):
            break
        time.sleep(0.5)
    return text


@contextmanager
def recording(browser_with_mic, stack, sign_in, wav):
    """A signed-in Transcribe page whose microphone plays `wav`, recording; yields (page, stop button)."""
    browser = browser_with_mic(wav)
    ctx = browser.new_context(base_url=stack.web.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        sign_in(page)
        page.goto("/#/transcribe")
        page.get_by_role("button", name="Record from microphone").click()
        stop = page.get_by_role("button", name="Stop recording")
        expect(stop).to_be_visible()
        yield page, stop
    finally:
        ctx.close()


def test_record_from_the_microphone_and_transcribe(browser_with_mic, stack, sign_in, speech, shot):
    wav = speech(MIC_TEXT, "mic.wav")
    with recording(browser_with_mic, stack, sign_in, wav) as (page, stop):
        expect(page.get_by_label("Choose an audio file")).to_be_disabled()
        shot(page, "transcribe-recording")
        page.wait_for_timeout(4500)
        stop.click()
        transcript = page.get_by_role("region", name="Transcript")
        # Wait for the result or an error, and fail at once with the error if there is one.
        expect(transcript.or_(page.locator("#audio-file-error"))).to_be_visible(timeout=120_000)
        expect(page.locator("#audio-file-error")).to_have_count(0)
        expect(page.get_by_text("File: recording-")).to_be_visible()
        text = " ".join(transcript.locator("button.segment").all_inner_texts())
        assert recall(MIC_TEXT, text) >= 0.6, text


def test_live_text_appears_while_recording(browser_with_mic, stack, sign_in, speech, shot):
    """Live transcription: the fake microphone speaks; final words show on the page before Stop."""
    wav = speech(LIVE_TEXT, "live.wav")
    with recording(browser_with_mic, stack, sign_in, wav) as (page, stop):
        live = page.get_by_role("region", name="Live text", exact=True)
        expect(live).to_be_visible()
        finals = live.locator(".live-final")
        started = time.monotonic()
        with wave.open(str(wav)) as w:
            spoken_s = w.getnframes() / w.getframerate()
        # final words arrive while the recording is still running
        early = wait_for_text(finals, lambda t: recall(LIVE_TEXT, t) >= 0.15, 60)
        assert recall(LIVE_TEXT, early) >= 0.15, early
        expect(stop).to_be_visible()
        shot(page, "transcribe-live")
        # let the microphone say all of it once (Chromium's fake device loops the file), then stop
        page.wait_for_timeout(max(0.0, spoken_s + 1.0 - (time.monotonic() - started)) * 1000)
        stop.click()
        # after Stop the rest becomes final: most of what was said is there (live decoding of
        # Opus chunks with tiny.en is rougher than a whole-file transcription)
        heard = wait_for_text(finals, lambda t: recall(LIVE_TEXT, t) >= 0.5, 60)
        assert recall(LIVE_TEXT, heard) >= 0.5, heard
        expect(live.get_by_role("status")).to_have_count(0)  # no error, no unexpected close
