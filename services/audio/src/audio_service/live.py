"""Live transcription: a streaming session over a bounded audio buffer, with local agreement.

Each step re-transcribes the audio not yet confirmed (at most `max_buffer_s` seconds) with word
timestamps. Words on which two consecutive hypotheses agree (their longest common prefix) are
confirmed: they become `final` and never change (LocalAgreement-2, as in Macháček et al.,
"Turning Whisper into Real-Time Transcription System", 2023). The rest of the newest
hypothesis is the `partial` text, revised by the next step. A word that ends at least
`settle_s` before the end of the audio heard is final at once, without waiting for a second
hypothesis: whisper has heard what follows it (the next words, or a pause), which rarely changes
it, so words become final one step earlier. Confirmed audio is cut off the buffer, so memory and
the cost of a step stay bounded however long the session runs.

When to step is `live_step.AdaptiveStep`'s business: every `step_s` of new audio on a fast
machine, less often when steps are slow. Audio that arrives while a step runs waits in a backlog;
if more than `max_backlog_s` piles up (the model slower than real time even at the largest step),
the oldest of it is skipped (logged, counted in `aip_live_skipped_seconds_total`) and the words
heard so far are made final, so a session stays current instead of falling ever further behind.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import Counter

from kit.logging import get_logger

from .audio import SAMPLE_RATE
from .live_step import AdaptiveStep, StepLoad

logger = get_logger(__name__)

LIVE_SKIPPED = Counter("aip_live_skipped_seconds", "Live audio skipped because transcription fell behind")

_PUNCT = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class Word:
    """One recognised word with absolute times (seconds since the session's first sample)."""

    start: float
    end: float
    text: str
    probability: float = 1.0

    @property
    def key(self) -> str:
        """The word as agreement compares it: lower case, no punctuation."""
        return _PUNCT.sub("", self.text.lower())

    def as_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "word": self.text,
                "probability": round(self.probability, 4)}


class LocalAgreement:
    """Confirms what two consecutive hypotheses agree on; confirmed words are never revised."""

    def __init__(self, max_overlap: int = 5):
        self.committed: list[Word] = []
        self.pending: list[Word] = []  # the newest hypothesis's unconfirmed words
        self.max_overlap = max_overlap

    @property
    def last_end(self) -> float:
        return self.committed[-1].end if self.committed else 0.0

    def _new_part(self, words: list[Word]) -> list[Word]:
        """The words of a hypothesis after the confirmed ones (by time, then by an n-gram overlap
        with the confirmed tail, which a re-transcribed buffer edge often repeats). A word is new
        unless it ends within the confirmed time: whisper's start times jitter across
        hypotheses, and a filter on the start dropped real words that began "before" the last
        final (measured: 0.24 WER instead of 0.30-0.34 with 0.5 s steps, 0.17 instead of 0.18 with 2 s)."""
        new = [w for w in words if w.key and w.end > self.last_end + 0.05]
        if new and self.committed and abs(new[0].start - self.last_end) < 1.0:
            for n in range(min(self.max_overlap, len(new), len(self.committed)), 0, -1):
                if [w.key for w in self.committed[-n:]] == [w.key for w in new[:n]]:
                    return new[n:]
        return new

    def insert(self, words: list[Word]) -> list[Word]:
        """Take a new hypothesis; return the words it confirms (the common prefix with the last)."""
        if not words:  # nothing heard is no evidence against what was heard before
            return []
        new = self._new_part(words)
        confirmed: list[Word] = []
        for old, cur in zip(self.pending, new):
            if old.key != cur.key:
                break
            confirmed.append(cur)
        self.pending = new[len(confirmed):]
        self.committed.extend(confirmed)
        return confirmed

    def settle(self, before: float) -> list[Word]:
        """Confirm the pending words (a prefix of them) that end before session time `before`."""
        n = 0
        while n < len(self.pending) and self.pending[n].end <= before:
            n += 1
        settled, self.pending = self.pending[:n], self.pending[n:]
        self.committed.extend(settled)
        return settled

    def flush(self) -> list[Word]:
        """End of stream: the newest hypothesis's unconfirmed words become final as they are."""
        rest, self.pending = self.pending, []
        self.committed.extend(rest)
        return rest


@dataclass(frozen=True)
class LiveOptions:
    """How a session transcribes (from the start message and the service settings)."""

    language: str | None = None
    step_s: float = 0.5  # new audio that triggers a step, at least (the step grows when steps are slow)
    max_step_s: float = 3.0  # ... and at most
    settle_s: float = 0.0  # a word ending this long before the audio's end is final at once; 0: never
    max_backlog_s: float = 30.0  # audio waiting for a step beyond this is skipped
    max_buffer_s: float = 20.0  # unconfirmed audio kept at most (whisper sees 30 s windows)
    trim_s: float = 8.0  # a buffer longer than this is cut at the last confirmed word
    prompt_chars: int = 200  # confirmed text given to whisper as the prompt
    beam_size: int = 1
    vad_filter: bool = True


class LiveSession:
    """Audio in (16 kHz float32), `partial` and `final` events out. `append` may be called from
    any thread; `step` runs in one worker thread at a time (it calls the model)."""

    def __init__(self, whisper, options: LiveOptions, load: StepLoad | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.whisper = whisper
        self.options = options
        self.clock = clock
        self.stepper = AdaptiveStep(options.step_s, max(options.step_s, options.max_step_s), load=load)
        self.skipped_s = 0.0  # audio skipped because steps fell behind
        self.agreement = LocalAgreement()
        self._lock = threading.Lock()
        self._buffer = np.zeros(0, np.float32)
        self._incoming: list[np.ndarray] = []
        self._offset = 0.0  # session time of the buffer's first sample
        self.received = 0  # samples received in all
        self._stepped_at = 0  # `received` at the last step
        self._segment_id = 0
        self._final_end = 0.0  # the end of the last final: later finals never start before it
        self._last_partial: tuple[str, float, float] | None = None

    # --- input -----------------------------------------------------------------------------
    def append(self, samples: np.ndarray) -> None:
        if samples.size:
            with self._lock:
                self._incoming.append(samples.astype(np.float32, copy=False))
                self.received += samples.size

    @property
    def duration(self) -> float:
        """Seconds of audio received."""
        return self.received / SAMPLE_RATE

    @property
    def buffer_s(self) -> float:
        return self._buffer.size / SAMPLE_RATE

    def due(self) -> bool:
        """Enough new audio has arrived for a step."""
        return self.stepper.due(self.new_audio_s)

    @property
    def new_audio_s(self) -> float:
        """Seconds of audio received since the last step began."""
        return (self.received - self._stepped_at) / SAMPLE_RATE

    # --- model -----------------------------------------------------------------------------
    def _hypothesis(self) -> list[Word]:
        opts = self.options
        prompt = " ".join(w.text for w in self.agreement.committed)[-opts.prompt_chars:] or None
        segments, _info = self.whisper.transcribe(
            self._buffer, language=opts.language, beam_size=opts.beam_size, temperature=0.0,
            word_timestamps=True, vad_filter=opts.vad_filter, condition_on_previous_text=False,
            initial_prompt=prompt,
        )
        words = []
        for seg in segments:
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:  # whisper's own silence rule
                continue
            for w in seg.words or []:
                text = w.word.strip()
                if text:
                    words.append(Word(w.start + self._offset, w.end + self._offset, text, w.probability))
        return words

    def step(self, final: bool = False) -> list[dict[str, Any]]:
        """Transcribe the buffer once; return the events to send (final first, then partial)."""
        started = self.clock()
        with self._lock:
            incoming, self._incoming = self._incoming, []
            covered = self.new_audio_s
            self._stepped_at = self.received
        events: list[dict[str, Any]] = []
        confirmed = self._take(incoming)
        words = self._hypothesis() if self._buffer.size >= SAMPLE_RATE // 10 else []
        confirmed += self.agreement.insert(words)
        if self.options.settle_s > 0:
            confirmed += self.agreement.settle(self._offset + self.buffer_s - self.options.settle_s)
        silent = not words and self.buffer_s > 2 * self.options.step_s + 1.0
        if final or silent or self.buffer_s > self.options.max_buffer_s:
            # the end, a pause, or no agreement for too long: the newest hypothesis stands
            confirmed += self.agreement.flush()
        if confirmed:
            events.append(self._final(confirmed))
        events.extend(self._partial(final))
        self._trim(bool(words))
        if not final:  # the last step's time decides nothing
            self.stepper.record(self.clock() - started, covered)
        return events

    def _take(self, incoming: list[np.ndarray]) -> list[Word]:
        """Append the audio that arrived since the last step to the buffer; a backlog over
        `max_backlog_s` is cut to its newest part (the pending words stand: returned as final)."""
        if not incoming:
            return []
        new = np.concatenate(incoming)
        limit = int(self.options.max_backlog_s * SAMPLE_RATE)
        if new.size <= limit:
            self._buffer = np.concatenate([self._buffer, new])
            return []
        skipped = (self._buffer.size + new.size - limit) / SAMPLE_RATE
        self.skipped_s += skipped
        LIVE_SKIPPED.inc(skipped)
        logger.warning("live session behind: %.1f s of audio waited for one step; skipped the oldest %.1f s",
                       new.size / SAMPLE_RATE, skipped)
        self._offset += self.buffer_s + (new.size - limit) / SAMPLE_RATE
        self._buffer = new[-limit:]
        return self.agreement.flush()

    def _final(self, words: list[Word]) -> dict[str, Any]:
        # Whisper's word times of two hypotheses may overlap by a few hundredths: finals keep one
        # timeline (each starts where the previous one ended at the earliest)
        start = max(round(words[0].start, 2), self._final_end)
        end = max(round(words[-1].end, 2), start)
        seg = {"id": self._segment_id, "start": start, "end": end,
               "text": " ".join(w.text for w in words), "words": [w.as_dict() for w in words]}
        self._segment_id += 1
        self._final_end = end
        return {"type": "final", "segment": seg}

    def _partial(self, final: bool) -> list[dict[str, Any]]:
        pending = self.agreement.pending
        if pending:  # on the finals' timeline too (word times of two hypotheses may overlap a little)
            start = max(round(pending[0].start, 2), self._final_end)
            current = (" ".join(w.text for w in pending), start, max(round(pending[-1].end, 2), start))
        else:
            end = round(self.agreement.last_end, 2)
            current = ("", end, end)
        if final or current == self._last_partial or (self._last_partial is None and not pending):
            return []
        self._last_partial = current
        return [{"type": "partial", "text": current[0], "start": current[1], "end": current[2]}]

    def _cut(self, at: float) -> None:
        """Drop buffered audio before session time `at`."""
        drop = int((at - self._offset) * SAMPLE_RATE)
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._offset += drop / SAMPLE_RATE

    def _trim(self, heard_words: bool) -> None:
        opts = self.options
        committed = self.agreement.committed
        sentence_done = bool(committed) and committed[-1].text.endswith((".", "?", "!"))
        if (sentence_done or self.buffer_s > opts.trim_s) and self.agreement.last_end > self._offset:
            # cut at a confirmed sentence end (a pause: a clean cut), or at the last confirmed
            # word once the buffer is long; whisper then hears the confirmed text as its prompt
            self._cut(self.agreement.last_end)
        if not heard_words and self.buffer_s > 2 * opts.step_s + 1.0:
            # nothing said (silence, noise): keep only the tail a word may be starting in
            self._cut(self._offset + self.buffer_s - opts.step_s - 1.0)
        if self.buffer_s > opts.max_buffer_s:  # words heard but none ended: bounded all the same
            self._cut(self._offset + self.buffer_s - opts.max_buffer_s)
