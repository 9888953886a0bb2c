"""The adaptive live step and the backlog bound, as pure logic: a fake clock and a scripted
model whose step time is set by the test (real speech: test_live.py and the live benchmark)."""

from types import SimpleNamespace as NS

import numpy as np
import pytest

from audio_service.live import LiveOptions, LiveSession, LocalAgreement, Word
from audio_service.live_step import AdaptiveStep, StepLoad

CHUNK_S = 0.1
WORD_EVERY_S, WORD_LEN_S = 0.6, 0.45


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class ScriptedWhisper:
    """'Hears' word i from 0.6 i to 0.6 i + 0.45 s of session time (a word cut by the buffer's
    end comes out garbled, as whisper's last word often does); each call takes `cost(buffer_s)`
    seconds of the fake clock."""

    def __init__(self, clock: Clock, cost):
        self.clock, self.cost, self.session, self.calls = clock, cost, None, []

    def transcribe(self, audio, **kwargs):
        buf_s = audio.size / 16000
        self.calls.append(buf_s)
        self.clock.t += self.cost(buf_s)
        offset, end = self.session._offset, self.session._offset + buf_s
        words = []
        i = int(offset // WORD_EVERY_S)
        while i * WORD_EVERY_S < end:
            start = i * WORD_EVERY_S
            if start >= offset - 1e-6:
                if start + WORD_LEN_S <= end:
                    words.append(NS(start=start - offset, end=start + WORD_LEN_S - offset, word=f" w{i}", probability=1))
                else:  # cut off mid-word: a different guess every time
                    words.append(NS(start=start - offset, end=buf_s, word=f" w{i}x{len(self.calls)}", probability=1))
            i += 1
        return [NS(words=words, no_speech_prob=0.0, avg_logprob=-0.1)], None


def simulate(cost, seconds: float, load: StepLoad | None = None, **options):
    """Stream `seconds` of audio in real time into a session; step whenever it is due and the last
    step is done. Returns the session, the model and (word, latency) of every final word."""
    clock = Clock()
    whisper = ScriptedWhisper(clock, cost)
    opts = LiveOptions(**{"step_s": 0.5, "max_step_s": 3.0, "trim_s": 6.0, **options})
    s = LiveSession(whisper, opts, load=load, clock=clock)
    whisper.session = s
    fed, finals, backlogs = 0.0, [], []

    def take(events):
        for e in events:
            if e["type"] == "final":
                finals.extend((w["word"], clock.t - w["end"]) for w in e["segment"]["words"])

    while fed < seconds - 1e-9:
        while fed + CHUNK_S <= min(clock.t, seconds) + 1e-9:  # what arrived in real time meanwhile
            s.append(np.zeros(int(CHUNK_S * 16000), np.float32))
            fed += CHUNK_S
        if s.due():
            backlogs.append(s.new_audio_s)
            take(s.step())
        else:
            clock.t = max(clock.t, fed + CHUNK_S)
    take(s.step(final=True))
    return s, whisper, finals, backlogs


def expected_words(seconds: float) -> list[str]:
    return [f"w{i}" for i in range(int(seconds / WORD_EVERY_S) + 1) if i * WORD_EVERY_S + WORD_LEN_S <= seconds]


def test_a_fast_model_steps_at_the_minimum_and_words_are_final_within_a_second_or_so():
    s, whisper, finals, _ = simulate(lambda buf: 0.1, 29.9)
    assert [w for w, _ in finals] == expected_words(29.9)
    assert s.stepper.interval_s == 0.5 and s.stepper.behind == 0
    assert len(whisper.calls) >= 30.0 / 0.6  # about one step per 0.5-0.6 s of audio
    lat = sorted(lag for _, lag in finals[:-1])  # the last word is final at the stop
    assert lat[len(lat) // 2] <= 1.3, lat


def test_a_slow_model_makes_the_step_grow_and_the_session_keeps_up():
    """Each step costs 0.4 s plus 0.15 s per buffered second (about 1.3 s for 6 s): stepping every
    0.5 s cannot keep up, so the interval grows; audio never waits for more than one step."""
    cost = lambda buf: 0.4 + 0.15 * buf  # noqa: E731
    s, whisper, finals, backlogs = simulate(cost, 59.9)
    assert [w for w, _ in finals] == expected_words(59.9)  # nothing lost, nothing repeated
    assert 0.8 < s.stepper.interval_s <= 3.0  # about one step's time (alone: steps back to back)
    assert s.skipped_s == 0
    assert max(backlogs) <= 3.0 + cost(7.0)  # the largest step plus one step's compute
    assert max(whisper.calls) <= 20.0 + 1.0
    lat = sorted(lag for _, lag in finals[:-1])
    assert lat[len(lat) // 2] <= 4.0, lat  # later than on a fast model, but bounded


def test_a_model_slower_than_real_time_skips_the_oldest_backlog_and_stays_current():
    """A step that takes 12 s can never keep up: audio waiting beyond max_backlog_s is skipped,
    the model never sees more than that, and finals stay in order."""
    s, whisper, finals, backlogs = simulate(lambda buf: 12.0, 59.9, max_backlog_s=8.0, max_buffer_s=10.0)
    assert s.skipped_s > 0
    assert max(whisper.calls) <= 8.0 + 10.0 + 0.01
    said = [int(w[1:]) for w, _ in finals]
    assert said == sorted(set(said)) and said  # in order, no repeats (some skipped)
    assert len(said) < len(expected_words(59.9))


def test_a_new_session_starts_from_the_step_time_other_sessions_measure():
    load = StepLoad()
    simulate(lambda buf: 1.5, 20.0, load=load)
    assert load.average_s == pytest.approx(1.5)
    assert AdaptiveStep(0.5, 3.0, load=load).interval_s == pytest.approx(1.5)  # not the minimum
    assert AdaptiveStep(0.5, 3.0, load=StepLoad()).interval_s == 0.5
    with load.session(), load.session():  # sharing the CPU: 1.5 x the step time, leaving some idle
        assert AdaptiveStep(0.5, 3.0, load=load).interval_s == pytest.approx(2.25)
    assert load.sessions == 0


def test_sessions_sharing_the_process_step_less_often_than_one_alone():
    cost = lambda buf: 0.6 + 0.05 * buf  # noqa: E731
    alone, _, finals_alone, _ = simulate(cost, 29.9, load=StepLoad())
    shared = StepLoad()
    with shared.session(), shared.session(), shared.session():  # two more sessions are open
        together, _, finals, _ = simulate(cost, 29.9, load=shared)
    assert together.stepper.steps < alone.stepper.steps
    assert together.stepper.interval_s == pytest.approx(1.5 * together.stepper.average_s, rel=0.01)
    assert [w for w, _ in finals] == [w for w, _ in finals_alone] == expected_words(29.9)


def test_words_heard_long_enough_ago_are_final_sooner_with_settle():
    """A slow model (steps of about 2 s): with settle_s a word heard 1 s before the end of the
    audio is final from one hypothesis instead of waiting for the next step to agree."""
    cost = lambda buf: 2.0  # noqa: E731
    _, _, by_agreement, _ = simulate(cost, 29.9)
    _, _, settled, _ = simulate(cost, 29.9, settle_s=1.0)
    assert [w for w, _ in settled] == [w for w, _ in by_agreement] == expected_words(29.9)
    median = lambda f: sorted(lag for _, lag in f)[len(f) // 2]  # noqa: E731
    assert median(settled) < median(by_agreement) - 0.5, (median(settled), median(by_agreement))


def test_the_step_grows_at_once_when_behind_and_shrinks_back_to_the_minimum():
    load = StepLoad()
    with load.session(), load.session():
        step = AdaptiveStep(0.5, 3.0, load=load)
        assert step.due(0.5) and not step.due(0.4)
        for _ in range(3):
            step.record(compute_s=0.3, covered_s=0.5)
        assert step.interval_s == 0.5 and step.behind == 0
        step.record(compute_s=2.5, covered_s=0.5)  # far behind: not the average, 1.5 x this step (max 3)
        assert step.interval_s == 3.0 and step.behind == 1
        assert not step.due(2.9)
        for _ in range(10):
            step.record(compute_s=0.1, covered_s=3.0)
        assert step.interval_s == 0.5
    alone = AdaptiveStep(0.5, 3.0, load=load)  # alone: the step's own time, no headroom
    alone.record(compute_s=0.3, covered_s=0.5)
    alone.record(compute_s=1.2, covered_s=0.5)
    assert alone.interval_s == pytest.approx(1.2)
    with pytest.raises(ValueError):
        AdaptiveStep(1.0, 0.5)


def test_settled_words_are_final_from_one_hypothesis_and_the_edge_word_is_not():
    a = LocalAgreement()
    hyp = [Word(0.0, 0.4, "send"), Word(0.5, 0.9, "the"), Word(1.0, 1.9, "rep")]
    assert a.insert(hyp) == []
    # audio heard up to 2.0 s, settle 1.0: words ending by 1.0 s are final, "rep" (at the edge) is not
    assert [w.text for w in a.settle(2.0 - 1.0)] == ["send", "the"]
    assert [w.text for w in a.pending] == ["rep"]
    assert [w.text for w in a.insert([Word(1.0, 1.5, "report"), Word(1.6, 2.2, "now")])] == []
    assert [w.text for w in a.committed] == ["send", "the"]
