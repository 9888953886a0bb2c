"""Live transcription parts without a server: local agreement, the bounded buffer, decoders."""

import numpy as np
import pytest

from audio_service import testaudio
from audio_service.live import LiveOptions, LiveSession, LocalAgreement, Word
from audio_service.live_client import pcm16_of_wav
from audio_service.live_input import Pcm16Decoder, WebmDecoder
from audio_service.live_route import LiveClosed, parse_start


def words(text: str, start: float = 0.0) -> list[Word]:
    return [Word(start + i * 0.5, start + i * 0.5 + 0.4, w) for i, w in enumerate(text.split())]


def test_agreement_confirms_the_common_prefix_of_two_hypotheses():
    a = LocalAgreement()
    assert a.insert(words("the quick round")) == []
    confirmed = a.insert(words("The quick brown fox"))
    assert [w.text for w in confirmed] == ["The", "quick"]  # case is not a disagreement
    assert [w.text for w in a.pending] == ["brown", "fox"]
    # a later hypothesis that rewrites confirmed words cannot change them
    assert [w.text for w in a.insert(words("A quack brown fox jumps"))] == ["brown", "fox"]
    assert [w.text for w in a.committed] == ["The", "quick", "brown", "fox"]
    assert [w.text for w in a.flush()] == ["jumps"]
    assert a.pending == []


def test_agreement_drops_words_repeated_from_the_confirmed_tail():
    a = LocalAgreement()
    a.insert(words("hello there world"))
    a.insert(words("hello there world again"))
    assert [w.text for w in a.committed] == ["hello", "there", "world"]
    # a re-transcribed buffer edge repeats "world" with a start just before the confirmed end
    again = [Word(1.3, 1.45, "world"), Word(1.5, 1.9, "again"), Word(2.0, 2.3, "now")]
    assert [w.text for w in a.insert(again)] == ["again"]
    assert [w.text for w in a.insert(again)] == ["now"]
    assert [w.text for w in a.committed] == ["hello", "there", "world", "again", "now"]


def test_a_new_word_whose_start_jitters_before_the_last_final_is_kept():
    a = LocalAgreement()
    a.insert(words("please send"))
    a.insert(words("please send"))
    assert [w.text for w in a.committed] == ["please", "send"] and a.pending == []  # send ends at 0.9
    # the next hypotheses time "the" from 0.75 (inside "send"), but it ends after it: a new word
    hyp = [Word(0.75, 1.3, "the"), Word(1.4, 1.9, "report")]
    assert a.insert(hyp) == [] and [w.text for w in a.pending] == ["the", "report"]
    assert [w.text for w in a.insert(hyp + [Word(2.0, 2.4, "to")])] == ["the", "report"]


class FakeWhisper:
    """Stands in for the model only to check buffer bookkeeping: it 'hears' a word per second."""

    def __init__(self):
        self.lengths = []

    def transcribe(self, audio, **kwargs):
        from types import SimpleNamespace as NS

        self.lengths.append(audio.size / 16000)
        secs = int(audio.size / 16000)
        ws = [NS(start=float(i), end=i + 0.8, word=f" w{i}", probability=1.0) for i in range(secs)]
        return [NS(words=ws, no_speech_prob=0.0, avg_logprob=-0.1)], None


def test_the_buffer_stays_bounded_and_finals_are_append_only():
    fake = FakeWhisper()
    s = LiveSession(fake, LiveOptions(step_s=1.0, trim_s=4.0, max_buffer_s=6.0))
    finals = []
    for _ in range(40):
        s.append(np.zeros(16000, np.float32))
        assert s.due()
        finals += [e["segment"] for e in s.step() if e["type"] == "final"]
    finals += [e["segment"] for e in s.step(final=True) if e["type"] == "final"]
    assert max(fake.lengths) <= 6.0 + 1.0
    assert [f["id"] for f in finals] == list(range(len(finals)))
    ends = [f["end"] for f in finals]
    assert ends == sorted(ends) and all(b["start"] >= a["end"] for a, b in zip(finals, finals[1:]))


def test_pcm16_decoder_joins_samples_split_across_frames():
    got = []
    dec = Pcm16Decoder(got.append)
    raw = (np.arange(-50, 50, dtype="<i2") * 300).tobytes()
    for i in range(0, len(raw), 7):  # odd sizes split samples
        dec.feed(raw[i:i + 7])
    out = np.concatenate(got)
    assert out.size == 100
    np.testing.assert_allclose(out * 32768, np.arange(-50, 50) * 300)


def test_webm_decoder_decodes_a_browser_style_stream_chunk_by_chunk(tmp_path):
    wav = testaudio.speak(testaudio.SENTENCES[0], tmp_path / "s.wav")
    webm = testaudio.convert(wav, tmp_path / "s.webm").read_bytes()
    expected = len(pcm16_of_wav(wav.read_bytes())) / 2 / 16000
    got = []
    dec = WebmDecoder(got.append)
    for i in range(0, len(webm), 1500):
        dec.feed(webm[i:i + 1500])
    dec.close()
    assert dec.error is None
    seconds = sum(g.size for g in got) / 16000
    assert abs(seconds - expected) < 0.1, (seconds, expected)


def test_webm_decoder_reports_bytes_that_are_not_webm():
    dec = WebmDecoder(lambda s: None)
    dec.feed(b"this is not a media container at all" * 100)
    dec.close()
    assert dec.error is not None
    assert dec.failure().code == "not_audio"


@pytest.mark.parametrize("text, code", [
    (None, "invalid_message"),
    ('{"type": "begin"}', "invalid_message"),
    ('{"type": "start", "format": "mp3"}', "invalid_message"),
    ('{"type": "start", "sample_rate": 44100}', "invalid_message"),
    ('{"type": "start", "language": "de"}', "english_only_model"),
    ('not json', "invalid_message"),
])
def test_bad_start_messages_are_named(text, code):
    with pytest.raises(LiveClosed) as err:
        parse_start(text, english_only=True)
    assert err.value.code == code


def test_a_good_start_message():
    start = parse_start('{"type": "start", "format": "webm", "language": "en"}', english_only=True)
    assert (start.format, start.sample_rate, start.language) == ("webm", 16000, "en")


def test_an_empty_hypothesis_keeps_the_pending_words_and_a_pause_makes_them_final():
    a = LocalAgreement()
    a.insert(words("send the report"))
    assert a.insert([]) == [] and [w.text for w in a.pending] == ["send", "the", "report"]

    class Hears:
        def __init__(self):
            self.said = words("send the report")

        def transcribe(self, audio, **kwargs):
            from types import SimpleNamespace as NS

            ws = [NS(start=w.start, end=w.end, word=w.text, probability=1.0) for w in self.said]
            self.said = []  # then silence
            return [NS(words=ws, no_speech_prob=0.0, avg_logprob=-0.1)], None

    s = LiveSession(Hears(), LiveOptions(step_s=1.0, settle_s=0))  # agreement and pause only
    s.append(np.zeros(16000 * 2, np.float32))
    assert [e["type"] for e in s.step()] == ["partial"]
    s.append(np.zeros(16000 * 2, np.float32))
    events = s.step()  # nothing heard in 4 s: the pending words are final, not lost
    assert [e["segment"]["text"] for e in events if e["type"] == "final"] == ["send the report"]


def test_finals_keep_one_timeline_when_hypotheses_overlap():
    """Two hypotheses' word times can overlap by a few hundredths (0.90 after 0.98): a final never
    starts before the previous final's end, so a client can lay them out in order."""
    s = LiveSession(FakeWhisper(), LiveOptions(step_s=1.0, trim_s=4.0, max_buffer_s=6.0))
    first = s._final([Word(0.0, 0.98, "our"), Word(0.5, 0.98, "new")])["segment"]
    second = s._final([Word(0.90, 1.4, "product")])["segment"]
    assert (first["start"], first["end"]) == (0.0, 0.98)
    assert second["start"] == 0.98 and second["end"] == 1.4 and second["id"] == first["id"] + 1


def test_a_partial_never_starts_before_the_last_final():
    s = LiveSession(FakeWhisper(), LiveOptions(step_s=1.0, trim_s=4.0, max_buffer_s=6.0))
    s._final([Word(0.0, 0.96, "available")])
    s.agreement.pending = [Word(0.92, 3.3, "in"), Word(1.0, 3.3, "stores")]
    (partial,) = s._partial(final=False)
    assert partial["start"] == 0.96 and partial["end"] == 3.3 and partial["text"] == "in stores"
