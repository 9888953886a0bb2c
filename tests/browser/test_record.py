"""Record from the microphone: Chromium's fake capture device plays a spoken WAV as the mic."""

from contextlib import contextmanager

from playwright.sync_api import expect


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
    wav = speech("Recording from the microphone works.", "mic.wav")
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
        text = transcript.locator("button.segment").all_inner_texts()
        assert "microphone" in " ".join(text).lower(), text


def test_live_text_appears_while_recording(browser_with_mic, stack, sign_in, speech, shot):
    """Live transcription: the fake microphone speaks; final words show on the page before Stop."""
    wav = speech("The weather today is sunny with a light breeze from the west. "
                 "Please send the quarterly report to the finance team by Friday.", "live.wav")
    with recording(browser_with_mic, stack, sign_in, wav) as (page, stop):
        live = page.get_by_role("region", name="Live text", exact=True)
        expect(live).to_be_visible()
        # final words arrive while the recording is still running
        expect(live.locator(".live-final")).to_contain_text("weather", ignore_case=True, timeout=60_000)
        expect(stop).to_be_visible()
        shot(page, "transcribe-live")
        stop.click()
        expect(live.locator(".live-final")).to_contain_text("report", ignore_case=True, timeout=60_000)
        expect(live.get_by_role("status")).to_have_count(0)  # no error, no unexpected close
