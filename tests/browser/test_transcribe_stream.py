"""Transcribe streams: segments appear while the recording is decoded, under a progress bar of
the decoded share of the audio; then the full transcript replaces them."""

from playwright.sync_api import expect

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to the finance team by Friday.",
    "The weather today is sunny with a light breeze from the west.",
    "She bought fresh bread and cheese at the market on her way home.",
    "Remember to turn off the lights when you leave the office.",
    "Our new product will be available in stores next month.",
]
WORDS = ["quick", "fox", "quarterly", "report", "weather", "bread", "market", "lights", "office", "product"]


def test_segments_appear_with_progress_while_decoding(signed_in, speech, shot, unlabelled):
    page = signed_in
    # about 100 s of speech: whisper decodes 30 s windows, each yielding its segments together,
    # so several windows are needed to see segments arrive in steps
    wav = speech(" ".join(SENTENCES * 4), "long.wav")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transcribe").click()
    page.get_by_label("Language", exact=True).select_option("en")
    page.get_by_label("Choose an audio file").set_input_files(str(wav))

    progress = page.get_by_label("Progress")
    expect(progress).to_be_visible()
    live = page.get_by_role("region", name="Segments so far")
    transcript = page.get_by_role("region", name="Transcript")
    error = page.locator("#audio-file-error")
    counts, fractions, shot_taken = [], [], False
    for _ in range(1800):  # at most 3 minutes, polled every 100 ms
        if transcript.count() or error.count():
            break
        n = live.locator("li").count()
        value = page.evaluate("(() => { const p = document.getElementById('transcribe-progress');"
                              " return p && p.hasAttribute('value') ? p.value : null; })()")
        if n:
            counts.append(n)
            fractions.append(value)
            if not shot_taken and n >= 2:
                shot(page, "transcribe-streaming")
                assert unlabelled(page) == []
                shot_taken = True
        page.wait_for_timeout(100)
    expect(error).to_have_count(0)
    expect(transcript).to_be_visible()

    # segments arrived window after window while the bar moved forward, short of the end
    assert len(set(counts)) >= 2 and counts == sorted(counts), counts
    partial = [f for f in fractions if f is not None]
    assert partial and all(0 < f < 1 for f in partial[:-1]) and partial == sorted(partial), fractions
    # then the full transcript replaces the live list and the progress goes
    expect(progress).to_have_count(0)
    expect(live).to_have_count(0)
    text = " ".join(transcript.locator("button.segment").all_inner_texts()).lower()
    found = [w for w in WORDS if w in text]
    assert len(found) >= 0.7 * len(WORDS), text
    expect(transcript).to_contain_text("Language: en")

