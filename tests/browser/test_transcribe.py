"""Transcribe: upload a spoken clip, follow the job, read, play, copy and download."""

import re

from playwright.sync_api import expect

SENTENCE = "The quick brown fox jumps over the lazy dog."
EXPECTED = ["quick", "brown", "fox", "lazy", "dog"]


def test_transcribe_a_generated_clip(signed_in, speech, shot, unlabelled):
    page = signed_in
    wav = speech(SENTENCE, "fox.wav")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transcribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Transcribe")
    page.get_by_label("Language", exact=True).select_option("en")
    page.get_by_label("Choose an audio file").set_input_files(str(wav))

    # The upload and job progress show while it runs.
    expect(page.get_by_label("Progress")).to_be_visible()
    transcript = page.get_by_role("region", name="Transcript")
    # Wait for the result or an error, and fail at once with the error if there is one.
    expect(transcript.or_(page.locator("#audio-file-error"))).to_be_visible(timeout=120_000)
    expect(page.locator("#audio-file-error")).to_have_count(0)
    expect(page.get_by_label("Progress")).to_have_count(0)

    segments = transcript.locator("button.segment")
    assert segments.count() >= 1
    text = " ".join(segments.all_inner_texts()).lower()
    for word in EXPECTED:
        assert word in text, f"{word!r} not in transcript {text!r}"
    expect(segments.first.locator(".time")).to_have_text(re.compile(r"^0:00–0:0\d$"))
    expect(transcript).to_contain_text("Language: en")
    shot(page, "transcribe")
    assert unlabelled(page) == []

    # Clicking a segment plays that part of the recording.
    page.evaluate("document.querySelector('audio').volume = 0")
    segments.first.click()
    # (polled with evaluate: the page's CSP forbids the eval that wait_for_function needs)
    for _ in range(50):
        if page.evaluate("document.querySelector('audio').currentTime") > 0:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("clicking a segment did not play the recording")

    # Downloads: the gateway renders each format (the UI has no subtitle writer). A streamed
    # transcript has no job, so the UI sends the same upload again with the format, once per format.
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/transcriptions")) as req, \
            page.expect_download() as dl:
        transcript.get_by_role("button", name="Download .srt").click()
    assert req.value.response().headers["content-type"].startswith("application/x-subrip")
    assert dl.value.suggested_filename == "fox.srt"  # the gateway's Content-Disposition
    srt = open(dl.value.path(), encoding="utf-8").read()
    assert re.match(r"1\n00:00:00,\d{3} --> 00:00:\d{2},\d{3}\n", srt), srt
    for word in EXPECTED:
        assert word in srt.lower(), srt

    with page.expect_download() as dl:
        transcript.get_by_role("button", name="Download .vtt").click()
    assert dl.value.suggested_filename == "fox.vtt"
    vtt = open(dl.value.path(), encoding="utf-8").read()
    assert vtt.startswith("WEBVTT\n\n00:00:00.") and "fox" in vtt.lower()

    with page.expect_download() as dl:
        transcript.get_by_role("button", name="Download .txt").click()
    assert dl.value.suggested_filename == "fox.txt"
    assert "lazy dog" in open(dl.value.path(), encoding="utf-8").read().lower()

    # Each format once: asking for the .srt again is not another run of the model.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/" in r.url else None)
    with page.expect_download() as dl:
        transcript.get_by_role("button", name="Download .srt").click()
    assert open(dl.value.path(), encoding="utf-8").read() == srt
    assert requests == []


def test_copy_puts_the_transcript_on_the_clipboard(signed_in, speech):
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/#/transcribe")
    page.get_by_label("Choose an audio file").set_input_files(str(speech("Copy this transcript to the clipboard.", "copy.wav")))
    transcript = page.get_by_role("region", name="Transcript")
    # Wait for the result or an error, and fail at once with the error if there is one.
    expect(transcript.or_(page.locator("#audio-file-error"))).to_be_visible(timeout=120_000)
    expect(page.locator("#audio-file-error")).to_have_count(0)
    transcript.get_by_role("button", name="Copy text").click()
    expect(transcript.get_by_role("status")).to_have_text("Transcript copied.")
    assert "copy this transcript" in page.evaluate("navigator.clipboard.readText()").lower()


def test_a_broken_audio_file_shows_a_clear_error(signed_in, tmp_path, shot):
    page = signed_in
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt this is not audio at all" * 20)
    page.goto("/#/transcribe")
    page.get_by_label("Choose an audio file").set_input_files(str(bad))
    error = page.locator("#audio-file-error")
    expect(error).to_be_visible(timeout=120_000)
    message = error.inner_text()
    assert "Traceback" not in message and len(message) < 400, message
    assert re.search(r"HTTP \d{3}", message), message
    expect(page.get_by_role("region", name="Transcript")).to_have_count(0)
    shot(page, "transcribe-broken-file")
